"""Output serializers and the schema of inputs (validated by exam.forms)."""

from __future__ import annotations

from typing import Any

from django.db.models.manager import BaseManager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import serializer_for_form
from core.api_schema import OptionalEmailField
from exam import forms
from exam.admission.selectors import application_stage, application_stages
from exam.admission.stages import Stage
from exam.models import (
    AdditionalEducation,
    Application,
    Attachment,
    Decision,
    Experience,
    HigherEducation,
    Sitting,
    Submission,
)

ApplicantInput = serializer_for_form(forms.ApplicantForm, name="ApplicantInput")
HigherEducationInput = serializer_for_form(forms.HigherEducationForm, name="HigherEducationInput")
AdditionalEducationInput = serializer_for_form(forms.AdditionalEducationForm, name="AdditionalEducationInput")
ExperienceInput = serializer_for_form(forms.ExperienceForm, name="ExperienceInput")
DecisionInput = serializer_for_form(forms.DecisionForm, name="DecisionInput")
ReasonInput = serializer_for_form(forms.ReasonForm, name="ReasonInput")
SignatureCodeInput = serializer_for_form(forms.SignatureCodeForm, name="SignatureCodeInput")
QualifiedSignatureInput = serializer_for_form(forms.QualifiedSignatureForm, name="QualifiedSignatureInput")


class ApplicationDraftInput(ApplicantInput):  # type: ignore[misc,valid-type]
    """The whole draft (exam.forms.validate_application_payload): each list given replaces the
    entries of its section."""

    higher_education = serializers.ListField(child=HigherEducationInput(), required=False, max_length=forms.MAX_ENTRIES)
    additional_education = serializers.ListField(
        child=AdditionalEducationInput(), required=False, max_length=forms.MAX_ENTRIES
    )
    experience = serializers.ListField(child=ExperienceInput(), required=False, max_length=forms.MAX_ENTRIES)


class AttachmentInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Attachment.Kind.choices)
    file = serializers.FileField(help_text="PDF, JPEG или PNG")


class HigherEducationSerializer(serializers.ModelSerializer):
    class Meta:
        model = HigherEducation
        fields = ["institution", "specialty", "document_name", "document_number", "document_date"]


class AdditionalEducationSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdditionalEducation
        fields = ["organisation", "programme", "assessment_hours", "document_number", "document_date"]


class ExperienceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Experience
        fields = ["employer", "works", "date_from", "date_to"]


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at"]


class SubmissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Submission
        fields = [
            "id",
            "channel",
            "received_at",
            "outcome",
            "missing",
            "signed_at",
            "signature_method",
            "digest",
            "protocol",
        ]


class StagesInBulk(serializers.ListSerializer):
    """A list of applications reads the stages of all of them at once (not one by one)."""

    def to_representation(self, data: Any) -> list[Any]:
        applications = list(data.all() if isinstance(data, BaseManager) else data)
        self.context.setdefault("stages", {}).update(application_stages(applications))
        return super().to_representation(applications)


class StageFields(serializers.Serializer):
    """The case's current stage (exam.admission.selectors.application_stage) beside the status of
    the application itself, which stays for the clients that read it."""

    stage = serializers.SerializerMethodField()
    stage_display = serializers.SerializerMethodField()

    def _stage(self, obj: Application) -> Stage:
        stages = self.context.setdefault("stages", {})
        if obj.pk not in stages:
            stages[obj.pk] = application_stage(obj)
        stage: Stage = stages[obj.pk]
        return stage

    @extend_schema_field(serializers.ChoiceField(choices=Stage.choices))
    def get_stage(self, obj: Application) -> str:
        return self._stage(obj).value

    def get_stage_display(self, obj: Application) -> str:
        return str(self._stage(obj).label)


class ApplicationSerializer(StageFields, serializers.ModelSerializer):
    email = OptionalEmailField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    higher_education = HigherEducationSerializer(many=True, read_only=True)
    additional_education = AdditionalEducationSerializer(many=True, read_only=True)
    experience = ExperienceSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    submissions = SubmissionSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "status",
            "status_display",
            "stage",
            "stage_display",
            "channel",
            "last_name",
            "first_name",
            "patronymic",
            "id_document_name",
            "id_document_number",
            "id_document_issuer",
            "id_document_issued_on",
            "postal_address",
            "email",
            "phone",
            "higher_education",
            "additional_education",
            "experience",
            "personal_data_consent",
            "attachments",
            "received_at",
            "registration_number",
            "registered_at",
            "registration_date",
            "not_accepted_reasons",
            "submissions",
        ]
        read_only_fields = fields
        list_serializer_class = StagesInBulk


class ApplicationListSerializer(StageFields, serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Application
        list_serializer_class = StagesInBulk
        fields = [
            "id",
            "status",
            "status_display",
            "stage",
            "stage_display",
            "registration_number",
            "registration_date",
            "last_name",
            "first_name",
        ]
        read_only_fields = fields


class QueueItemSerializer(ApplicationListSerializer):
    due_on = serializers.DateField(read_only=True)
    mark = serializers.SerializerMethodField()

    class Meta(ApplicationListSerializer.Meta):
        fields = [*ApplicationListSerializer.Meta.fields, "due_on", "mark"]
        read_only_fields = fields

    def get_mark(self, obj: Any) -> str:
        from core.selectors import deadline_mark

        return deadline_mark(due_on=obj.due_on)


class SittingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sitting
        fields = ["id", "starts_at", "entry_window_minutes", "is_remote", "place", "capacity"]


class DecisionSerializer(serializers.ModelSerializer):
    sitting = SittingSerializer(read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "application",
            "kind",
            "state",
            "grounds",
            "explanation",
            "sitting",
            "drafted_at",
            "signed_at",
            "outgoing_number",
        ]
        read_only_fields = fields


class CriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    met = serializers.BooleanField()
    summary = serializers.CharField()
    evidence = serializers.ListField(child=serializers.CharField())


class StepSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    done_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    due_label = serializers.CharField()


class SignatureChallengeSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField(help_text="Код действует до этого момента")
    digest = serializers.CharField(help_text="SHA-256 подписываемого документа")


class ExamPasswordSerializer(serializers.Serializer):
    login = serializers.CharField()
    password = serializers.CharField(help_text="Показывается один раз; хранится только хеш.")
