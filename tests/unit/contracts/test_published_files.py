"""The files in schemas/ are generated: they match the models, and the AsyncAPI document holds
together (every reference resolves, every example fits its payload schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.unit.contracts.support import EXAMPLES, FORMATS, SCHEMAS
from worker.cli import main
from worker.contracts.catalogue import ALL_TYPES, BY_TYPE, TOPICS
from worker.contracts.export import ASYNCAPI_FILE, rendered_files
from worker.contracts.json_schema import DIALECT, schema_id
from worker.dlq.restore import REPLAYED_FROM_HEADER
from worker.kafka.dead_letters import DEAD_LETTER_HEADERS, NULL_VALUE_HEADER

RENDERED = rendered_files()


def _generated_on_disk() -> set[str]:
    names = {path.name for path in SCHEMAS.glob("*.schema.json")} | {ASYNCAPI_FILE}
    names |= {f"examples/{path.name}" for path in EXAMPLES.glob("*.json")}
    return names


def test_the_committed_files_are_exactly_the_generated_ones() -> None:
    assert _generated_on_disk() == set(RENDERED), "run `reengage schemas export`"


@pytest.mark.parametrize("relative", sorted(RENDERED))
def test_a_committed_file_matches_the_models(relative: str) -> None:
    committed = (SCHEMAS / relative).read_text(encoding="utf-8")
    assert committed == RENDERED[relative], f"{relative} drifted: run `reengage schemas export`"


def test_export_writes_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REENGAGE_LOG_LEVEL", "WARNING")
    assert main(["schemas", "export", str(tmp_path)]) == 0
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(RENDERED)
    for relative, content in RENDERED.items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == content


def test_rendering_is_deterministic() -> None:
    assert rendered_files() == RENDERED


@pytest.mark.parametrize("event_type", sorted(ALL_TYPES))
def test_each_schema_is_a_draft_2020_12_schema_of_the_whole_event(event_type: str) -> None:
    schema = json.loads(RENDERED[f"{event_type}.schema.json"])
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["$id"] == schema_id(event_type)
    assert schema["title"] == event_type
    assert BY_TYPE[event_type].topic in schema["description"]
    assert schema["properties"]["type"]["const"] == event_type
    assert {"specversion", "id", "source", "type", "data"} <= set(schema["required"])
    # The tolerant reader: nothing in the schema forbids extra attributes or fields.
    assert "additionalProperties" not in json.dumps(schema)


# --- AsyncAPI -----------------------------------------------------------------------------

DOCUMENT: dict[str, Any] = yaml.safe_load(RENDERED[ASYNCAPI_FILE])
_DOCUMENT_URI = "urn:reengage:asyncapi"
_REGISTRY: Registry[Any] = Registry().with_resource(
    _DOCUMENT_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT7)
)


def _resolve(reference: str) -> Any:
    return _REGISTRY.resolver(_DOCUMENT_URI).lookup(reference).contents


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _references(item)]
    return []


def test_asyncapi_header() -> None:
    assert DOCUMENT["asyncapi"] == "3.0.0"
    assert DOCUMENT["info"]["title"]
    assert DOCUMENT["info"]["version"]


def test_every_asyncapi_reference_resolves_inside_the_document() -> None:
    references = _references(DOCUMENT)
    assert references
    for reference in references:
        assert reference.startswith("#/"), reference
        assert _resolve(reference) is not None


def test_every_topic_is_a_channel_with_its_types() -> None:
    channels = {channel["address"]: channel for channel in DOCUMENT["channels"].values()}
    assert set(TOPICS) | {"{topic}.dlq"} == set(channels)
    for event_type, kind in BY_TYPE.items():
        assert event_type in channels[kind.topic]["messages"]


def test_operations_use_messages_of_their_channel() -> None:
    for operation in DOCUMENT["operations"].values():
        assert operation["action"] in {"send", "receive"}
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel}/messages/")


@pytest.mark.parametrize("event_type", sorted(ALL_TYPES))
def test_each_message_example_fits_its_payload_and_key(event_type: str) -> None:
    message = DOCUMENT["components"]["messages"][event_type]
    payload_schema = {"$ref": f"{_DOCUMENT_URI}{message['payload']['$ref']}"}
    # AsyncAPI's default schema format is a superset of JSON Schema draft 7.
    validator = Draft7Validator(payload_schema, registry=_REGISTRY, format_checker=FORMATS)
    (example,) = message["examples"]
    assert list(validator.iter_errors(example["payload"])) == []
    assert example["payload"] == json.loads(RENDERED[f"examples/{event_type}.json"])
    key = message["bindings"]["kafka"]["key"]
    assert key["examples"] == [BY_TYPE[event_type].key_template.format(**_key_parts(example))]


def _key_parts(example: dict[str, Any]) -> dict[str, str]:
    data = example["payload"]["data"]
    job_id = data.get("job_id") or data.get("job", {}).get("job_id")
    candidate_id = data.get("candidate_id") or data.get("candidate", {}).get("candidate_id")
    return {"tenant_id": data["tenant_id"], "job_id": job_id, "candidate_id": candidate_id}


def test_the_dead_letter_message_names_every_header_the_code_writes() -> None:
    headers = DOCUMENT["components"]["messages"]["deadLetter"]["headers"]
    written = {*DEAD_LETTER_HEADERS, NULL_VALUE_HEADER, REPLAYED_FROM_HEADER}
    assert set(headers["properties"]) == written
    assert set(headers["required"]) == set(DEAD_LETTER_HEADERS)


def test_a_dead_letter_is_not_described_as_a_cloudevent() -> None:
    """Its value is whatever was consumed, so the document's default content type (a
    structured CloudEvent) must not apply to it."""
    message = DOCUMENT["components"]["messages"]["deadLetter"]
    assert DOCUMENT["defaultContentType"].startswith("application/cloudevents+json")
    assert message["contentType"] == "application/octet-stream"
    assert "original" in message["bindings"]["kafka"]["key"]["description"]
