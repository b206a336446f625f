"""The database checks a deploy runs after migrating."""

from core.checks import complaint_handlers_are_deputy_ministers, signatories_have_positions
from tests.conftest import make_user


def test_a_signatory_without_a_position_is_named_by_the_check(db):
    make_user("deputy@mintrud.test", last="Замов", first="Зиновий", roles=("signatory",))
    assert signatories_have_positions() == []
    make_user("nobody@mintrud.test", last="Безпостов", first="Борис", roles=("signatory",), position="")
    (warning,) = signatories_have_positions()
    assert warning.id == "core.W001" and "nobody@mintrud.test" in warning.msg and "deputy@" not in warning.msg


def test_a_complaint_handler_who_is_not_a_deputy_minister_is_named_by_the_check(db):
    make_user("deputy-minister@mintrud.test", last="Замминов", first="Захар", roles=("complaint_handler",))
    assert complaint_handlers_are_deputy_ministers() == []
    make_user(
        "director@mintrud.test", last="Директоров", first="Дмитрий", roles=("complaint_handler",), position="director"
    )
    (warning,) = complaint_handlers_are_deputy_ministers()
    assert (
        warning.id == "core.W002" and "director@mintrud.test" in warning.msg and "deputy-minister@" not in warning.msg
    )
