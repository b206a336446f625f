"""The API's input schemas say what validates: every JSON body an API view reads is validated by a
Django form (core.api.form_or_400), and its OpenAPI component is generated from that form
(core.api.serializer_for_form). A schema that drifts from its form fails here."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from core.api import JSONObjectField

# The one JSON body no form validates: the answer save checks its own input in one statement (a
# hundred saves a second in a sitting), and its schema says so.
HAND_WRITTEN = {"AnswerInputRequest"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _generated_serializers() -> dict[str, type[serializers.Serializer]]:
    """The serializers made by serializer_for_form, by name (a subclass that adds fields, as the
    whole draft does, keeps its parent's form)."""
    found: dict[str, type[serializers.Serializer]] = {}
    stack: list[type] = [serializers.Serializer]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(cls, "form_class", None) is not None:
            found[cls.__name__] = cls
    return found


def _json_request_components(schema: dict[str, Any]) -> set[str]:
    names = set()
    for item in schema["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                names.add(content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1])
    return names


def _enum(schema: dict[str, Any], prop: dict[str, Any]) -> set[Any]:
    """The values an enum property allows, through references and combinations, less the empty ones."""
    if "$ref" in prop:
        return _enum(schema, schema["components"]["schemas"][prop["$ref"].rsplit("/", 1)[-1]])
    values = set(prop.get("enum", ()))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in prop.get(key, ()):
            values |= _enum(schema, part)
    if "items" in prop:
        values |= _enum(schema, prop["items"])
    return values - {"", None}


def _expected_type(field: forms.Field) -> str | None:
    if isinstance(field, JSONObjectField):
        return "object"
    if isinstance(field, forms.BooleanField):
        return "boolean"
    if isinstance(field, forms.IntegerField):
        return "integer"
    if isinstance(field, forms.MultipleChoiceField):
        return "array"
    if isinstance(field, forms.ChoiceField):
        return None  # an enum's own component
    return "string"


def _drift(schema: dict[str, Any], component: dict[str, Any], form_class: type[forms.Form]) -> list[str]:
    """How the component differs from the form's fields: names, required, types, lengths, bounds, choices."""
    fields = form_class.base_fields
    props = component["properties"]
    problems = [f"{name}: not in the schema" for name in fields if name not in props]
    required = {name for name, field in fields.items() if field.required}
    if set(component.get("required", ())) & set(fields) != required:
        problems.append(f"required: schema {sorted(component.get('required', ()))}, form {sorted(required)}")
    for name, field in fields.items():
        prop = props.get(name, {})
        # An optional field with a format or a pattern is that, or an empty string.
        branches = [prop, *prop.get("anyOf", ()), *prop.get("oneOf", ())]
        types = {branch.get("type") for branch in branches} - {None}
        if (expected := _expected_type(field)) and expected not in types:
            problems.append(f"{name}: type {sorted(types)}, form {expected}")
        max_length = max((b["maxLength"] for b in branches if "maxLength" in b), default=None)
        if isinstance(field, forms.CharField) and max_length != field.max_length:
            problems.append(f"{name}: maxLength {max_length}, form {field.max_length}")
        if isinstance(field, forms.IntegerField):
            bounds = (prop.get("minimum"), prop.get("maximum"))
            if bounds != (field.min_value, field.max_value):
                problems.append(f"{name}: bounds {bounds}, form {(field.min_value, field.max_value)}")
        if isinstance(field, forms.ChoiceField):
            choices = {value for value, _label in field.choices if value != ""}  # type: ignore[misc]
            if _enum(schema, prop) != choices:
                problems.append(f"{name}: enum {sorted(_enum(schema, prop))}, form {sorted(choices)}")
        if field.help_text and prop.get("description") != str(field.help_text):
            problems.append(f"{name}: description {prop.get('description')!r}, form {field.help_text!r}")
    return problems


def test_every_json_input_of_the_api_has_its_schema_generated_from_the_form_that_validates_it(
    schema: dict[str, Any],
) -> None:
    generated = _generated_serializers()
    inputs = _json_request_components(schema) - HAND_WRITTEN
    assert inputs, "no JSON input found in the schema"
    not_from_a_form = sorted(name for name in inputs if name.removesuffix("Request") not in generated)
    assert not_from_a_form == [], "an input schema written by hand instead of generated from its form"


def test_no_input_schema_drifts_from_its_form(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    checked = 0
    for name, serializer_class in _generated_serializers().items():
        component = components.get(f"{name}Request")
        if component is None:
            continue
        problems = _drift(schema, component, serializer_class.form_class)  # type: ignore[attr-defined]
        assert problems == [], f"{name} drifts from {serializer_class.form_class.__name__}"  # type: ignore[attr-defined]
        checked += 1
    # The admission API's inputs, the exam room's and the registry's verification at least.
    assert checked >= 10


def test_the_drift_check_sees_a_schema_that_says_less_than_the_form(schema: dict[str, Any]) -> None:
    from registry.forms import VerifyForm

    component = {**schema["components"]["schemas"]["VerifyInputRequest"]}
    component["properties"] = {**component["properties"], "key_id": {"type": "string", "maxLength": 400}}
    component["required"] = ["record", "signature"]
    assert _drift(schema, component, VerifyForm) == [
        "required: schema ['record', 'signature'], form ['key_id', 'record', 'signature']",
        "key_id: maxLength 400, form 40",
    ]
