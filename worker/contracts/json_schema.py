"""JSON Schema (draft 2020-12) of each event type: the whole CloudEvent, envelope and `data`.

Generated from the models, so the published schemas cannot drift from what the worker accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from worker.contracts.catalogue import EventKind

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:reengage:schema:"
DEFS_REF = "#/$defs/{model}"

_PRODUCED_BY = {"ATS": "the ATS", "worker": "the re-engagement worker", "mailer": "a mailer"}


class _ContractSchema(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: core_schema.CoreSchema) -> bool:
        # "Tenant Id" next to "tenant_id" says nothing; models keep their titles.
        return False


def schema_id(event_type: str) -> str:
    return f"{ID_PREFIX}{event_type}"


def schema_file_name(event_type: str) -> str:
    return f"{event_type}.schema.json"


def describe(kind: EventKind) -> str:
    data_class = kind.event_class.model_fields["data"].annotation
    purpose = _one_line((data_class.__doc__ if data_class else None) or "")
    key = kind.key_template
    return (
        f"A CloudEvents 1.0 event in structured JSON mode whose type is {kind.type}. "
        f"{purpose} Published by {_PRODUCED_BY[kind.producer]} on the topic {kind.topic} "
        f"(default name) with the key {key}. String limits apply after trimming surrounding "
        "whitespace; unknown attributes and data fields are ignored."
    )


def event_schema(kind: EventKind, *, ref_template: str = DEFS_REF) -> JsonSchemaValue:
    """The full CloudEvent of one type; nested models in `$defs` (or where `ref_template`
    points)."""
    generated = kind.event_class.model_json_schema(
        mode="validation", ref_template=ref_template, schema_generator=_ContractSchema
    )
    schema: JsonSchemaValue = _tidy(generated)
    schema["title"] = kind.type
    schema["description"] = describe(kind)
    return schema


def published_schema(kind: EventKind) -> JsonSchemaValue:
    """The document written to `schemas/<type>.schema.json`."""
    return {"$schema": DIALECT, "$id": schema_id(kind.type), **event_schema(kind)}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy(node: Any) -> Any:
    """Docstrings wrap lines; descriptions read better as one line each."""
    if isinstance(node, dict):
        return {
            key: _one_line(value)
            if key == "description" and isinstance(value, str)
            else _tidy(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    return node
