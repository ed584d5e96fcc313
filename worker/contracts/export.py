"""The published contract files (`reengage schemas export [DIR]` writes them).

Everything written here is generated; `tests/unit/contracts` fails when the committed copies
in `schemas/` drift from the models. Output is deterministic: sorted keys, two-space
indentation, UTF-8, a trailing newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from worker.contracts.asyncapi import asyncapi_document
from worker.contracts.catalogue import KINDS
from worker.contracts.examples import example_messages
from worker.contracts.json_schema import published_schema, schema_file_name

ASYNCAPI_FILE = "asyncapi.yaml"
EXAMPLES_DIR = "examples"


def rendered_files() -> dict[str, str]:
    """Relative path -> file content, for every generated file."""
    files = {
        schema_file_name(kind.type): _json(published_schema(kind), sort_keys=True) for kind in KINDS
    }
    for event_type, message in example_messages().items():
        # Examples keep the order the encoder writes, which is the order a reader expects.
        files[f"{EXAMPLES_DIR}/{event_type}.json"] = _json(json.loads(message.value))
    files[ASYNCAPI_FILE] = yaml.safe_dump(
        asyncapi_document(), sort_keys=True, allow_unicode=True, width=1_000_000
    )
    return files


def export(directory: Path) -> list[Path]:
    written = []
    for relative, content in sorted(rendered_files().items()):
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def _json(document: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(document, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"
