"""What the contract tests share: where the published files are, and how to check them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from worker.contracts.catalogue import ALL_TYPES
from worker.contracts.json_schema import schema_file_name

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
EXAMPLES = SCHEMAS / "examples"
INVALID_INDEX = EXAMPLES / "invalid" / "index.json"

# RFC 3339 section 5.6 (the `date-time` format of JSON Schema): jsonschema checks it only with
# an optional package, so the check is spelled out here. The parse catches impossible dates.
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _RFC3339.match(instance):
        return False
    seconds_fraction = re.sub(r"\.[0-9]+", "", instance.upper())
    datetime.fromisoformat(seconds_fraction.replace("Z", "+00:00"))
    return True


@cache
def validator(event_type: str) -> Draft202012Validator:
    assert event_type in ALL_TYPES
    schema = json.loads((SCHEMAS / schema_file_name(event_type)).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def schema_errors(event_type: str, document: Any) -> list[str]:
    return [error.message for error in validator(event_type).iter_errors(document)]
