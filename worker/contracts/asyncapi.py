"""The AsyncAPI 3.0.0 document: topics (channels), keys, envelope and payloads, one example
message per type, and what the worker and the reference mailer do with each topic.

Payload schemas are the same generated schemas as `schemas/*.schema.json`, with their nested
models moved to `components/schemas` so the document stands alone.
"""

from __future__ import annotations

import json
from typing import Any

from worker.contracts.catalogue import (
    DLQ_SUFFIX,
    KINDS,
    TOPIC_CANDIDATES,
    TOPIC_JOBS,
    TOPIC_OUTREACH,
    TOPIC_STATUS,
    TOPICS,
    EventKind,
)
from worker.contracts.envelope import STRUCTURED_CONTENT_TYPE
from worker.contracts.examples import example_messages
from worker.contracts.json_schema import event_schema

ASYNCAPI_VERSION = "3.0.0"
CONTRACT_VERSION = "1.0.0"
_KAFKA_BINDING = "0.5.0"
_COMPONENT_REF = "#/components/schemas/{model}"

_CHANNELS: dict[str, tuple[str, str, str]] = {
    # topic: (channel id, setting that renames it, what it carries)
    TOPIC_JOBS: ("atsJobs", "REENGAGE_TOPIC_JOBS", "Jobs opened and closed, published by the ATS."),
    TOPIC_CANDIDATES: (
        "atsCandidates",
        "REENGAGE_TOPIC_CANDIDATES",
        "Candidate snapshots and erasures, published by the ATS.",
    ),
    TOPIC_OUTREACH: (
        "outreach",
        "REENGAGE_TOPIC_OUTREACH",
        "Outreach requested and cancelled, published by the worker (through its outbox relay).",
    ),
    TOPIC_STATUS: (
        "outreachStatus",
        "REENGAGE_TOPIC_STATUS",
        "What became of each outreach, published by a mailer.",
    ),
}

# (operation id, action, topic, summary): the worker's and the reference mailer's view.
_OPERATIONS = (
    ("workerReceivesJobs", "receive", TOPIC_JOBS, "The worker stores jobs and matches them."),
    (
        "workerReceivesCandidates",
        "receive",
        TOPIC_CANDIDATES,
        "The worker stores candidate snapshots, erases, and matches candidates to recent jobs.",
    ),
    ("workerSendsOutreach", "send", TOPIC_OUTREACH, "The worker's relay publishes the outbox."),
    (
        "workerReceivesStatus",
        "receive",
        TOPIC_STATUS,
        "The worker learns which outreach was sent and which addresses bounced or were rejected.",
    ),
    ("mailerReceivesOutreach", "receive", TOPIC_OUTREACH, "The reference mailer sends email."),
    ("mailerSendsStatus", "send", TOPIC_STATUS, "The reference mailer reports each outreach."),
)

_DLQ_HEADERS = {
    "dlq.original.topic": "Topic the message was consumed from.",
    "dlq.original.partition": "Its partition (decimal).",
    "dlq.original.offset": "Its offset (decimal).",
    "dlq.error.class": (
        "too_large, not_json, bad_envelope or bad_data (the message was refused when read), or "
        "processing_failed (a valid event that could not be applied)."
    ),
    "dlq.error.reason": "What is wrong, at most 1000 characters, never personal data.",
    "dlq.consumer.group": "The consumer group that gave up on it.",
    "dlq.failed_at": "When, RFC 3339 UTC.",
}
# Written only in the case each describes, so documented but not required.
_OCCASIONAL_DLQ_HEADERS = {
    "dlq.original.null_value": (
        '"true" when the original record had no value (and no key): no Kafka client can send '
        "a null value with no key, so the dead letter's value is empty instead."
    ),
    "dlq.replayed.from": (
        "{dead-letter topic}:{partition}:{offset} of the dead letter this message was "
        "replayed from by `reengage dlq replay` (kept should it fail again)."
    ),
}


def asyncapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    examples = example_messages()
    for kind in KINDS:
        for name, schema in _hoisted(kind).items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are named {name}")
        messages[kind.type] = _message(kind, json.loads(examples[kind.type].value))
    messages["deadLetter"] = _dead_letter_message()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "reengage event contract",
            "version": CONTRACT_VERSION,
            "description": (
                "Events between an applicant tracking system (ATS), the reengage worker and "
                "mailers, on Kafka. Every message value is a CloudEvents 1.0 event in "
                "structured JSON mode (UTF-8). Topic names are defaults: each can be renamed "
                "with a setting. Consumers never rely on keys for correctness; producers "
                "should still set the recommended key, so that everything about one job or "
                "one candidate stays in one partition, in order. A type a consumer does not "
                "handle is skipped; a message that is not JSON, exceeds 1 MiB, lacks a "
                "required attribute or has invalid data goes to the topic's dead-letter topic."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "channels": {
            **{_channel_id(topic): _channel(topic) for topic in TOPICS},
            "deadLetters": _dlq(),
        },
        "operations": {
            operation: _operation(action, topic, summary)
            for operation, action, topic, summary in _OPERATIONS
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def _channel_id(topic: str) -> str:
    return _CHANNELS[topic][0]


def _channel(topic: str) -> dict[str, Any]:
    _id, setting, carries = _CHANNELS[topic]
    return {
        "address": topic,
        "title": topic,
        "description": f"{carries} Default name; set {setting} to rename it.",
        "messages": {
            kind.type: {"$ref": f"#/components/messages/{kind.type}"}
            for kind in KINDS
            if kind.topic == topic
        },
        "bindings": {"kafka": {"topic": topic, "bindingVersion": _KAFKA_BINDING}},
    }


def _dlq() -> dict[str, Any]:
    return {
        "address": "{topic}" + DLQ_SUFFIX,
        "title": "<topic>.dlq",
        "description": (
            "Messages a consumer could not process: the original key and value bytes, "
            "unchanged, with headers saying where they came from and why they failed. "
            "The original offset is committed only after the broker acknowledged the dead "
            "letter. `reengage dlq replay` re-publishes them."
        ),
        "parameters": {
            "topic": {
                "description": "The topic the message was consumed from.",
                "enum": list(TOPICS),
            }
        },
        "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
    }


def _operation(action: str, topic: str, summary: str) -> dict[str, Any]:
    channel = f"#/channels/{_channel_id(topic)}"
    return {
        "action": action,
        "channel": {"$ref": channel},
        "summary": summary,
        "messages": [
            {"$ref": f"{channel}/messages/{kind.type}"} for kind in KINDS if kind.topic == topic
        ],
    }


def _message(kind: EventKind, example: dict[str, Any]) -> dict[str, Any]:
    key = kind.key_template
    return {
        "name": kind.type,
        "title": kind.type,
        "summary": _first_sentence(kind),
        "contentType": STRUCTURED_CONTENT_TYPE,
        "payload": {"$ref": _COMPONENT_REF.format(model=kind.type)},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"Recommended key: {key}. Consumers do not rely on it.",
                    "examples": [key.format(**_key_values(example))],
                },
                "bindingVersion": _KAFKA_BINDING,
            }
        },
        "examples": [{"name": kind.type.replace(".", "-"), "payload": example}],
    }


def _key_values(example: dict[str, Any]) -> dict[str, str]:
    data = example["data"]
    candidate = data.get("candidate", {})
    return {
        "tenant_id": data["tenant_id"],
        "job_id": data.get("job_id") or data.get("job", {}).get("job_id", ""),
        "candidate_id": data.get("candidate_id") or candidate.get("candidate_id", ""),
    }


def _first_sentence(kind: EventKind) -> str:
    data_class = kind.event_class.model_fields["data"].annotation
    doc = " ".join(((data_class.__doc__ if data_class else None) or "").split())
    return doc.split(". ")[0].rstrip(".") + "."


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "deadLetter",
        "title": "Dead letter",
        "summary": "The original message, unchanged, with the reason it could not be processed.",
        "headers": {
            "type": "object",
            "required": sorted(_DLQ_HEADERS),
            "properties": {
                name: {"type": "string", "description": text}
                for name, text in {**_DLQ_HEADERS, **_OCCASIONAL_DLQ_HEADERS}.items()
            },
        },
        # Not the document's default content type: the bytes are whatever was consumed.
        "contentType": "application/octet-stream",
        "payload": {"description": "The original value bytes (any bytes, or none)."},
        "bindings": {
            "kafka": {
                "key": {
                    "description": "The original record's key bytes, unchanged (or none).",
                },
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _hoisted(kind: EventKind) -> dict[str, Any]:
    """The event schema under its type name, and its nested models beside it."""
    schema = event_schema(kind, ref_template=_COMPONENT_REF)
    nested: dict[str, Any] = schema.pop("$defs", {})
    return {kind.type: schema, **nested}
