"""Models of the exam app: applications and admission; the question bank; attempts of the test."""

from exam.models.applications import (
    AdditionalEducation,
    Application,
    Attachment,
    Channel,
    Decision,
    EntryCorrection,
    ExamCredential,
    Experience,
    HigherEducation,
    Notice,
    OriginalsReturn,
    SignatureChallenge,
    Sitting,
    Submission,
)
from exam.models.attempts import Attempt, AttemptEvent, AttemptInterruption, AttemptItem, PreparedTest
from exam.models.bank import BlueprintItem, Question, QuestionVersion, Topic

__all__ = [
    "AdditionalEducation",
    "Application",
    "Attachment",
    "Attempt",
    "AttemptEvent",
    "AttemptInterruption",
    "AttemptItem",
    "BlueprintItem",
    "Channel",
    "Decision",
    "EntryCorrection",
    "ExamCredential",
    "Experience",
    "HigherEducation",
    "Notice",
    "OriginalsReturn",
    "PreparedTest",
    "Question",
    "QuestionVersion",
    "SignatureChallenge",
    "Sitting",
    "Submission",
    "Topic",
]
