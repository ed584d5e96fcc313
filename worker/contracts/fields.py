"""Field types shared by every event: trimmed strings, ids, timestamps, URLs.

Each type carries its validation, run inside pydantic-core (Rust) wherever possible because
the decoder is on the hot path, and the JSON Schema we publish for it, written by hand so that
a document valid against the schema is always accepted by the models. Mostly they agree
exactly; the few rules a JSON Schema cannot state (trimming before the limits, above all) are
listed in schemas/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, StrictBool, StrictInt
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

# The characters pydantic-core's trimming removes (Rust's `char::is_whitespace`, the Unicode
# White_Space property), spelled out so that JSON Schema engines in every language agree:
# `\s` means different things in ECMA-262, Python `re` and Rust.
_WHITESPACE = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = f"[^{_WHITESPACE}]"

TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
OUTREACH_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_ANY_CASE_OUTREACH_ID_PATTERN = OUTREACH_ID_PATTERN.replace("a-f", "a-fA-F")

# An http(s) URL with a non-empty authority and no whitespace or control characters. The
# empty string passes because an optional field given as "" means "not given".
HTTP_URL_PATTERN = r"^(?:[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f/?#]+(?:[/?#][^\x00-\x20\x7f]*)?)?$"

# RFC 3339 date-time with a mandatory offset, seconds required, any number of fraction digits
# (RFC 3339 sets no limit; the ones past the microsecond are dropped as read),
# years 0001-9999 (what a datetime holds).
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
# The instant must also have a UTC form the pattern accepts back (the encoder writes UTC):
# 0001-01-01T00:30:00+01:00 has none. So the first and last day of the range are left out.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST_EXCLUSIVE = datetime(9999, 12, 31, tzinfo=UTC)
_DATE_HOUR_MINUTE = (
    f"^{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:"
)
_FRACTION_OFFSET = r"(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
# Second 60 is RFC 3339's leap second (time-second = 00-60).
TIMESTAMP_PATTERN = f"{_DATE_HOUR_MINUTE}(?:[0-5][0-9]|60){_FRACTION_OFFSET}"
_LEAP_SECOND_PATTERN = f"{_DATE_HOUR_MINUTE}60{_FRACTION_OFFSET}"
_LEAP_SECOND = re.compile(r"(?<=:)60(?:\.[0-9]+)?(?=[Zz+-])")
# Python's `re` lets `$` match before a final newline, so a validator built on it takes
# "<value>\n" by an anchored pattern alone. For the untrimmed patterned values (timestamps,
# outreach ids), which hold no newline anywhere, the schema says so too.
NO_NEWLINE_SCHEMA: JsonSchemaValue = {"not": {"pattern": "\n"}}
TIMESTAMP_ERROR = "timestamp_invalid"
_TIMESTAMP_MESSAGE = "Input should be an RFC 3339 timestamp with an offset (Z or +hh:mm)"

# JSON may carry U+0000 ("\u0000") but PostgreSQL text cannot: an event holding one would be
# stored by SQLite and refused by PostgreSQL, after it was decoded. So no string of the
# contract may hold it, and such an event is dead-lettered at the edge on every database.
NUL_ERROR = "string_nul"
_NUL_MESSAGE = "String should not contain a NUL character (U+0000)"
NO_NUL_SCHEMA: JsonSchemaValue = {"not": {"pattern": r"\x00"}}
_NO_NUL = core_schema.custom_error_schema(
    core_schema.str_schema(pattern=r"^[^\x00]*$"),
    custom_error_type=NUL_ERROR,
    custom_error_message=_NUL_MESSAGE,
)


def _without_nul(text: core_schema.CoreSchema) -> core_schema.CoreSchema:
    """`text`, then the NUL check on what it accepted: a value of the wrong type or length is
    reported as such, not as a NUL."""
    return core_schema.chain_schema([text, _NO_NUL])


def format_timestamp(value: datetime) -> str:
    """The one canonical text form: UTC, `Z`, microseconds only when there are any."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds") + "Z"


# Branch labels of the "value or null" unions below. The decoder drops the errors of the
# fallback branches from its reasons, so a reader sees the error of the value branch only.
VALUE_BRANCH = "~value"
_BLANK_BRANCH = "~blank"
_NULL_BRANCH = "~null"
FALLBACK_BRANCHES = frozenset({_BLANK_BRANCH, _NULL_BRANCH})


def _or_fallback(
    value: core_schema.CoreSchema, *, blank_to_none: bool, null_means: object
) -> core_schema.CoreSchema:
    """`value`, or null (read as `null_means`), or for strings a blank string (read as None).

    Built from pydantic-core schemas only: a Python validator here would make pydantic-core
    turn the whole JSON value into Python objects first, doubling the cost of decoding.
    """

    # with_default(on_error="default") over a validator that always fails: a constant.
    def constant(result: object) -> core_schema.CoreSchema:
        never = core_schema.int_schema(strict=True)
        return core_schema.with_default_schema(never, default=result, on_error="default")

    choices: list[core_schema.CoreSchema | tuple[core_schema.CoreSchema, str]] = [
        (value, VALUE_BRANCH)
    ]
    if blank_to_none:
        blank = core_schema.str_schema(strip_whitespace=True, max_length=0)
        choices.append((core_schema.chain_schema([blank, constant(None)]), _BLANK_BRANCH))
    choices.append(
        (core_schema.chain_schema([core_schema.none_schema(), constant(null_means)]), _NULL_BRANCH)
    )
    return core_schema.union_schema(choices, mode="left_to_right")


def _fold_leap_second(text: str) -> str:
    return _LEAP_SECOND.sub("59.999999", text, count=1)


@dataclass(frozen=True, slots=True)
class _TimestampType:
    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Shape checked by the pattern, then parsed by pydantic-core's datetime parser, all in
        # Rust: a Python validator per timestamp costs more than parsing the JSON. The parsing
        # step is lax on purpose: it receives the checked string, not JSON.
        from_text = core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=TIMESTAMP_PATTERN),
                core_schema.datetime_schema(
                    tz_constraint="aware", strict=False, ge=EARLIEST, lt=LATEST_EXCLUSIVE
                ),
            ]
        )
        # A datetime cannot hold a leap second: it is read as the last microsecond of the
        # second before, which keeps it after every earlier instant. Only a leap second takes
        # this branch (a Python call), so other timestamps pay nothing for it.
        leap_second = core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=_LEAP_SECOND_PATTERN),
                core_schema.no_info_plain_validator_function(_fold_leap_second),
                core_schema.datetime_schema(
                    tz_constraint="aware", strict=False, ge=EARLIEST, lt=LATEST_EXCLUSIVE
                ),
            ]
        )
        # Python callers (the builders, tests) may pass an aware datetime instead.
        from_datetime = core_schema.chain_schema(
            [
                core_schema.is_instance_schema(datetime),
                core_schema.datetime_schema(
                    tz_constraint="aware", ge=EARLIEST, lt=LATEST_EXCLUSIVE
                ),
            ]
        )
        return core_schema.custom_error_schema(
            core_schema.union_schema([from_text, leap_second, from_datetime], mode="left_to_right"),
            custom_error_type=TIMESTAMP_ERROR,
            custom_error_message=_TIMESTAMP_MESSAGE,
            serialization=core_schema.plain_serializer_function_ser_schema(
                format_timestamp, when_used="json"
            ),
        )

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
            **NO_NEWLINE_SCHEMA,
        }


@dataclass(frozen=True, slots=True)
class Trimmed:
    """A string trimmed of surrounding whitespace, with limits on what is left (`max_length`
    None: no limit but the message's size), and no NUL."""

    max_length: int | None
    min_length: int = 1
    pattern: str | None = None

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _without_nul(
            core_schema.str_schema(
                strip_whitespace=True,
                min_length=self.min_length,
                max_length=self.max_length,
                pattern=self.pattern,
            )
        )

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()

    def json_schema(self) -> JsonSchemaValue:
        schema: JsonSchemaValue = {"type": "string", **NO_NUL_SCHEMA}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        elif self.min_length:
            # minLength counts whitespace; this makes "   " invalid here as in the models.
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema


@dataclass(frozen=True, slots=True)
class Verbatim:
    """A string taken as it is (not trimmed: envelope attributes), 1 to `max_length`
    characters, no NUL."""

    max_length: int

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _without_nul(core_schema.str_schema(min_length=1, max_length=self.max_length))

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "minLength": 1, "maxLength": self.max_length, **NO_NUL_SCHEMA}


@dataclass(frozen=True, slots=True)
class OptionalTrimmed:
    """A trimmed string or null; a string that is empty after trimming is taken as null.
    `max_length` None: no limit but the message's size."""

    max_length: int | None
    pattern: str | None = None

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        text = core_schema.str_schema(
            strip_whitespace=True, min_length=1, max_length=self.max_length, pattern=self.pattern
        )
        return _or_fallback(_without_nul(text), blank_to_none=True, null_means=None)

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        text = Trimmed(self.max_length, min_length=0, pattern=self.pattern).json_schema()
        return {"anyOf": [text, {"type": "null"}]}


@dataclass(frozen=True, slots=True)
class OptionalVerbatim:
    """A string taken as given (not trimmed), no NUL, or null; like every string limit in the
    contract, `max_length` applies after trimming surrounding whitespace. Only the empty string
    is read as null."""

    max_length: int

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        limited = core_schema.custom_error_schema(
            core_schema.str_schema(pattern=self._pattern()),
            custom_error_type="string_too_long_when_trimmed",
            # Worded as for every other limit (all of them count the trimmed value).
            custom_error_message=f"String should have at most {self.max_length} characters",
        )
        text = core_schema.chain_schema([core_schema.str_schema(min_length=1), limited])
        # blank_to_none sees "" and strings over the limit: only "" passes its max_length=0.
        return _or_fallback(_without_nul(text), blank_to_none=True, null_means=None)

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        text = {"type": "string", "pattern": self._pattern(), **NO_NUL_SCHEMA}
        return {"anyOf": [text, {"type": "null"}]}

    def _pattern(self) -> str:
        """Whitespace, then at most `max_length` characters that neither start nor end with
        whitespace, then whitespace: a length limit on the trimmed value, as a pattern (all in
        pydantic-core, and the same in the JSON Schema)."""
        inner = max(self.max_length - 2, 0)
        edge = NOT_BLANK_PATTERN
        # The trailing whitespace sits inside the optional group: with a second `W*` outside
        # it, both could match the same run of whitespace, and a backtracking validator (an
        # ECMA-262 or Python `re` one reading the schema) took quadratic time to refuse a
        # long padded value.
        white = f"[{_WHITESPACE}]*"
        return rf"^{white}(?:{edge}(?:[\s\S]{{0,{inner}}}{edge})?{white})?$"


@dataclass(frozen=True, slots=True)
class NullMeansEmpty:
    """An optional array: omitted and null both mean empty."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _or_fallback(handler(source), blank_to_none=False, null_means=())

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        assert schema["type"] == "union"
        array, _label = schema["choices"][0]  # the value branch, see _or_fallback
        return {"anyOf": [handler(array), {"type": "null"}]}


Timestamp = Annotated[datetime, _TimestampType()]
"""Aware datetime; on the wire RFC 3339 with an offset, written back as UTC with `Z`."""

EventId = Annotated[str, Verbatim(256)]
TenantId = Annotated[str, Trimmed(64, pattern=TENANT_ID_PATTERN)]
EntityId = Annotated[str, Trimmed(128)]
OutreachId = Annotated[
    str,
    Field(
        pattern=OUTREACH_ID_PATTERN,
        json_schema_extra={"format": "uuid", **NO_NEWLINE_SCHEMA},
        description="UUIDv5 in namespace c7d2887b-df6a-55c3-8e79-53aa763e879f of the name "
        "'{tenant_id}/{job_id}/{candidate_id}', lowercase. Stable across restarts and replays.",
    ),
]


@dataclass(frozen=True, slots=True)
class _ReportedOutreachId:
    """An outreach id as a mailer reports it back: the worker writes ids in lowercase, but a
    UUID's hex digits are case-insensitive (RFC 9562) and a mailer may have upper-cased it.
    Refusing the report would lose a bounce, so any case is read, as lowercase."""

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.str_schema(pattern=_ANY_CASE_OUTREACH_ID_PATTERN, to_lower=True)

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": _ANY_CASE_OUTREACH_ID_PATTERN,
            "format": "uuid",
            **NO_NEWLINE_SCHEMA,
            "description": "The outreach_id of the reengage.outreach.requested reported on; "
            "hex digits in either case, read as lowercase.",
        }


ReportedOutreachId = Annotated[str, _ReportedOutreachId()]
Credential = Annotated[str, Trimmed(100)]
# The spec limits required credentials to 1-100 characters and says nothing of preferred ones:
# any length, blank ones allowed (the job model drops them).
PreferredCredential = Annotated[str, Trimmed(None, min_length=0)]
Title = Annotated[str, Trimmed(300)]
OptionalName = Annotated[str | None, OptionalTrimmed(200)]
OptionalLocation = Annotated[str | None, OptionalTrimmed(200)]
# An address is judged as given (spaces make it invalid), so it is not trimmed.
OptionalEmail = Annotated[str | None, OptionalVerbatim(254)]
Email = Annotated[str, Trimmed(254)]
# No `format: uri`: validators that check it reject "" (read here as "no URL") and IRIs.
OptionalHttpUrl = Annotated[str | None, OptionalTrimmed(2048, pattern=HTTP_URL_PATTERN)]

Count = Annotated[StrictInt, Field(ge=0)]
Flag = StrictBool
