"""Django's random strings made from one read of the system's random source (core.randomness): a
page with a form no longer reads it once per character of its CSRF token, and the strings are as
random as before."""

import collections
import os
import random
import sys

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, _get_new_csrf_string
from django.test import Client

from core import randomness


@pytest.fixture
def reads(monkeypatch):
    """Counts the reads of the system's random source (os.urandom, as the secrets module has it)."""
    count = [0]
    real = os.urandom

    def counted(n):
        count[0] += 1
        return real(n)

    monkeypatch.setattr(os, "urandom", counted)
    monkeypatch.setattr(random, "_urandom", counted)
    return count


@pytest.mark.django_db
def test_a_page_with_a_form_reads_the_random_source_once_or_twice_not_per_character(reads):
    client = Client()
    client.get("/exam/")  # the first page: the CSRF secret and its mask
    first = reads[0]
    reads[0] = 0
    client.get("/exam/")  # later pages: a new mask of the same secret
    assert first <= 2 and reads[0] <= 1  # Django's own: 65 and 33


def test_a_session_key_is_made_from_one_read(reads):
    key = SessionStore()._get_new_session_key()
    assert len(key) == 32 and reads[0] <= 2  # one for the key (the store may check it is free)


def test_every_module_of_django_that_holds_get_random_string_holds_ours():
    """A new version of Django that imports it somewhere else shows here."""
    holders = [
        name
        for name, module in list(sys.modules.items())
        if name.startswith("django.") and getattr(module, "get_random_string", None) is not None
    ]
    assert holders
    assert {name: sys.modules[name].get_random_string for name in holders} == dict.fromkeys(
        holders, randomness.get_random_string
    )


def test_the_strings_are_of_the_alphabet_and_uniform_over_it():
    token = _get_new_csrf_string()
    assert len(token) == CSRF_SECRET_LENGTH and set(token) <= set(CSRF_ALLOWED_CHARS)
    # An alphabet whose size does not divide 256: without the rejection of the bytes above the
    # last whole multiple, its first 56 characters would come out twice as often as the others.
    alphabet = "".join(chr(0x100 + i) for i in range(200))
    counts = collections.Counter(randomness.get_random_string(200_000, alphabet))
    assert set(counts) == set(alphabet)
    expected = 200_000 / 200
    assert max(counts.values()) < expected * 1.2 and min(counts.values()) > expected * 0.8
    assert len({randomness.get_random_string(32) for _ in range(1000)}) == 1000


def test_the_edge_cases_are_djangos():
    assert randomness.get_random_string(0) == ""
    with pytest.raises(IndexError):
        randomness.get_random_string(5, "")
    long_alphabet = "".join(chr(0x400 + i) for i in range(300))  # more characters than a byte has
    assert set(randomness.get_random_string(50, long_alphabet)) <= set(long_alphabet)
