"""The one canonical JSON of the platform: what is signed, hashed or put under a MAC is serialised
here, keys sorted and no spaces, so that the same record always gives the same bytes.

Stored digests, MACs and signatures depend on these bytes: a change here invalidates them.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(obj: Any, *, ascii_only: bool = False) -> bytes:
    """UTF-8 bytes of ``obj`` as JSON with sorted keys and no whitespace. Letters outside ASCII stay
    as they are, unless ``ascii_only`` escapes them as ``\\uXXXX`` (the older format of a record that
    must keep its bytes)."""
    return json.dumps(obj, ensure_ascii=ascii_only, sort_keys=True, separators=(",", ":")).encode("utf-8")
