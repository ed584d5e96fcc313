"""The settings list that `--help` shows, generated from the Settings model so that it cannot
drift from what is actually accepted. A secret's default is never shown, and nothing here
reads the environment: only the model's declarations."""

from __future__ import annotations

import textwrap
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from worker.settings import ENV_PREFIX, Settings

HELP_WIDTH = 88


@dataclass(frozen=True, slots=True)
class SettingHelp:
    """One line of the settings list."""

    variable: str
    default: str  # as people read it; "(secret)" rather than a secret's default
    note: str  # the field's description, the values it accepts, or that it is a secret


def settings_help() -> list[SettingHelp]:
    """Every setting, in the model's order."""
    return [_help_for(name, field) for name, field in Settings.model_fields.items()]


# The settings groups that the one-off commands read (the services read them all).
KAFKA_CONNECTION = (
    "kafka_bootstrap_servers",
    "kafka_security_protocol",
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_cafile",
)
LOGGING = ("log_level", "log_format")
POLICY = (
    "min_inactive_days",
    "max_inactive_days",
    "cooldown_days",
    "max_outreach",
    "reverse_match_window_days",
)


def settings_epilog(only: Sequence[str] | None = None) -> str:
    """The list as `--help` prints it: one setting a line, long notes wrapped under it.
    `only`: the settings a command reads (model field names), in the model's order."""
    rows = settings_help()
    if only is not None:
        unknown = set(only) - set(Settings.model_fields)
        if unknown:
            raise ValueError(f"not settings: {sorted(unknown)}")
        wanted = {f"{ENV_PREFIX}{name.upper()}" for name in only}
        rows = [row for row in rows if row.variable in wanted]
    width = max(len(row.variable) for row in rows) + 2
    lines = [
        f"settings{' it reads' if only is not None else ''} (environment variables; a .env "
        "file in the working folder is read too;",
        "details in the README):",
    ]
    for row in rows:
        text = row.default + (f"  ({row.note})" if row.note else "")
        lines.append(
            textwrap.fill(
                text,
                width=HELP_WIDTH,
                initial_indent=f"  {row.variable:<{width}}",
                subsequent_indent=" " * (width + 4),
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def _help_for(name: str, field: FieldInfo) -> SettingHelp:
    kinds = _leaf_types(field.annotation)
    secret = SecretStr in kinds
    choices = [str(c) for kind in kinds if get_origin(kind) is Literal for c in get_args(kind)]
    default = field.default
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "shown_default" in extra:  # a default the command decides (None in the settings)
        shown = str(extra["shown_default"])
    elif default is None:
        shown = "unset"
    elif secret:
        shown = "(secret)"
    elif isinstance(default, bool):
        shown = str(default).lower()
    elif isinstance(default, float):
        shown = f"{default:g}"
    else:
        shown = str(default)
    notes = [field.description or ""]
    if choices:
        notes.append("one of " + ", ".join(choices))
    if secret and default is None:
        notes.append("secret")
    return SettingHelp(ENV_PREFIX + name.upper(), shown, "; ".join(n for n in notes if n))


def _leaf_types(annotation: object) -> list[object]:
    """`A | B | None` as [A, B, NoneType]; any other annotation as itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [leaf for arg in get_args(annotation) for leaf in _leaf_types(arg)]
    return [annotation]
