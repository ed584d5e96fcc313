"""The base of every contract model: frozen, tolerant of unknown fields, discreet in errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContractModel(BaseModel):
    # extra="ignore": the tolerant reader of the spec; producers may add fields at any time.
    # hide_input_in_errors: a ValidationError that reaches a log must not carry personal data.
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)
