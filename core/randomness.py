"""Django's random strings (the CSRF token's secret and its mask, session keys, salts, the suffix of
a stored file's name) from one read of the system's random source each, not one per character.

Django makes them with ``django.utils.crypto.get_random_string``: ``secrets.choice`` per character,
each a read of ``os.urandom``, which lets go of the interpreter lock for the system call. A page
with a form made 33 of them (the token's mask), its first one 65, a sign-in 32 more (the session
key); under a sitting's load every release is a wait to take the lock back behind the process's
other threads (bench/README.md, "Random strings"). The characters are the same: each uniform over
the alphabet, from the same source (rejection sampling: a byte that would favour the first
characters of the alphabet is drawn again)."""

from __future__ import annotations

import importlib
import secrets

from django.utils import crypto

_django_get_random_string = crypto.get_random_string
RANDOM_STRING_CHARS = crypto.RANDOM_STRING_CHARS

# The modules of Django that hold get_random_string under their own name (imported with "from").
USERS = (
    "django.utils.crypto",
    "django.middleware.csrf",
    "django.contrib.sessions.backends.base",
    "django.contrib.auth.hashers",
    "django.core.files.storage.base",
)


def get_random_string(length: int, allowed_chars: str = RANDOM_STRING_CHARS) -> str:
    """A string of ``length`` characters, each uniform over ``allowed_chars``, from the system's
    cryptographically secure source (as Django's own)."""
    size = len(allowed_chars)
    if size == 0 or size > 256 or length <= 0:
        return _django_get_random_string(length, allowed_chars)  # the same errors and edge cases
    limit = 256 - 256 % size  # bytes below it map evenly onto the alphabet
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(allowed_chars[b % size] for b in secrets.token_bytes(length + 16) if b < limit)
    return "".join(chars[:length])


def install() -> None:
    """Put get_random_string in Django's place, in each module that holds it (core.apps)."""
    for name in USERS:
        importlib.import_module(name).get_random_string = get_random_string  # type: ignore[attr-defined]
