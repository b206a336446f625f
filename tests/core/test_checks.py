"""The database checks a deploy runs after migrating."""

from core.checks import signatories_have_positions
from tests.conftest import make_user


def test_a_signatory_without_a_position_is_named_by_the_check(db):
    make_user("deputy@mintrud.test", last="Замов", first="Зиновий", roles=("signatory",))
    assert signatories_have_positions() == []
    make_user("nobody@mintrud.test", last="Безпостов", first="Борис", roles=("signatory",), position="")
    (warning,) = signatories_have_positions()
    assert warning.id == "core.W001" and "nobody@mintrud.test" in warning.msg and "deputy@" not in warning.msg
