"""Models of the exam app: applications and admission; the question bank; attempts of the test."""

from exam.models.applications import (
    AdditionalEducation,
    Application,
    Attachment,
    Channel,
    Decision,
    ExamCredential,
    Experience,
    HigherEducation,
    Notice,
    SignatureChallenge,
    Sitting,
    Submission,
)
from exam.models.attempts import Attempt, AttemptEvent, AttemptItem
from exam.models.bank import BlueprintItem, Question, QuestionVersion, Topic

__all__ = [
    "AdditionalEducation",
    "Application",
    "Attachment",
    "Attempt",
    "AttemptEvent",
    "AttemptItem",
    "BlueprintItem",
    "Channel",
    "Decision",
    "ExamCredential",
    "Experience",
    "HigherEducation",
    "Notice",
    "Question",
    "QuestionVersion",
    "SignatureChallenge",
    "Sitting",
    "Submission",
    "Topic",
]
