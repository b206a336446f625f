"""The commission's vote form: question numbers are whole numbers, whatever is typed."""

import pytest

from appeals.forms import VoteForm


@pytest.mark.parametrize("typed", ["²", "1,²", "один", "3.5"])
def test_question_numbers_that_are_not_whole_numbers_are_a_form_error(typed):
    form = VoteForm({"outcome": "uphold", "void": typed, "rescore": ""})
    assert not form.is_valid() and "числами через запятую" in str(form.errors["void"])


def test_question_numbers_are_read_with_commas_and_semicolons():
    form = VoteForm({"outcome": "uphold", "void": "3; 7,12", "rescore": ""})
    assert form.is_valid() and form.cleaned_data["void"] == [3, 7, 12]
