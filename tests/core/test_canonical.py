"""One canonical JSON for what is signed, hashed or put under a MAC (core.canonical)."""

from core.canonical import canonical_json


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_cyrillic_as_utf8():
    assert canonical_json({"б": "Иванова", "a": [1, None]}) == '{"a":[1,null],"б":"Иванова"}'.encode()


def test_canonical_json_for_an_older_record_escapes_everything_outside_ascii():
    assert canonical_json({"б": "Ив", "a": 1}, ascii_only=True) == b'{"a":1,"\\u0431":"\\u0418\\u0432"}'
