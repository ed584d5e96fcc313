"""The published examples: valid ones pass the JSON Schemas and the models, invalid ones fail
both, for the reason their index states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.contracts.support import EXAMPLES, INVALID_INDEX, schema_errors
from worker.contracts.catalogue import ALL_TYPES
from worker.contracts.decode import Decoded, Invalid, decode

VALID = sorted([*EXAMPLES.glob("*.json"), *(EXAMPLES / "valid").glob("*.json")])
INVALID: dict[str, dict[str, Any]] = json.loads(INVALID_INDEX.read_text(encoding="utf-8"))


def _name(path: Path) -> str:
    return str(path.relative_to(EXAMPLES))


def test_there_is_a_generated_example_of_every_type() -> None:
    assert {path.stem for path in EXAMPLES.glob("*.json")} == ALL_TYPES


def test_every_invalid_example_is_indexed_and_every_index_entry_exists() -> None:
    files = {path.name for path in (EXAMPLES / "invalid").glob("*.json")} - {INVALID_INDEX.name}
    assert files == set(INVALID)
    assert len(files) >= 10


@pytest.mark.parametrize("path", VALID, ids=_name)
def test_valid_example_passes_its_schema_and_the_models(path: Path) -> None:
    raw = path.read_bytes()
    document = json.loads(raw)
    assert schema_errors(document["type"], document) == []
    result = decode(raw, ALL_TYPES)
    assert isinstance(result, Decoded), result
    assert result.event.type == document["type"]


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_example_fails_for_the_stated_reason(name: str) -> None:
    expected = INVALID[name]
    raw = (EXAMPLES / "invalid" / name).read_bytes()

    result = decode(raw, ALL_TYPES)
    assert isinstance(result, Invalid), result
    assert result.error_class == expected["error_class"]
    assert expected["reason"] in result.reason

    if expected["error_class"] == "not_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
        return
    errors = schema_errors(expected["type"], json.loads(raw))
    if expected.get("schema_accepts"):
        # A rule JSON Schema cannot state (documented in schemas/README.md).
        assert errors == []
    else:
        assert errors != []
