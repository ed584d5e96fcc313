import io
import json
import logging

import pytest

from worker.logs import (
    RepeatLimiter,
    about_no_record,
    about_one_record,
    configure_logging,
    get_logger,
    mask_emails,
)


def test_mask_emails_takes_an_address_in_a_url_too() -> None:
    masked = mask_emails("see /u?rcpt=jane.doe%40example.com")
    assert "jane" not in masked and masked.endswith("***@example.com")


def test_mask_emails_keeps_first_letter_and_domain() -> None:
    assert mask_emails("to jane.doe@example.com now") == "to j***@example.com now"
    assert mask_emails("a@b.io, Zed+x@mail.example.org") == "a***@b.io, Z***@mail.example.org"
    assert mask_emails("no address here") == "no address here"
    assert mask_emails("<josé.martín@exämple.com>") == "<j***@exämple.com>"
    assert mask_emails("用户名@例子.中国 wrote") == "用***@例子.中国 wrote"
    assert mask_emails("'ünïcode+tag@mail.example.org'") == "'ü***@mail.example.org'"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("jane@localhost", "j***@localhost"),
        ('"jane doe"@example.com', "j***@example.com"),
        ("jane@[192.0.2.1]", "j***@[192.0.2.1]"),
        ("jane@example.com.", "j***@example.com."),
        ("a @ b", "a @ b"),
    ],
)
def test_mask_emails_takes_any_address_shape_not_only_deliverable_ones(
    text: str, masked: str
) -> None:
    assert mask_emails(text) == masked


def _capture(fmt: str = "json") -> io.StringIO:
    stream = io.StringIO()
    configure_logging("INFO", fmt, stream=stream)  # type: ignore[arg-type]
    return stream


def test_json_lines_carry_the_required_keys_and_no_addresses() -> None:
    stream = _capture()
    get_logger("t").info(
        "candidate stored",
        tenant_id="acme",
        email="jane@example.com",
        first_name="Jane",
        detail={"nested": ["x jane@example.com y"], "last_name": "Doe"},
        note="bounce from jane@example.com",
    )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "candidate stored"
    assert line["level"] == "info"
    assert "timestamp" in line
    assert line["tenant_id"] == "acme"
    text = json.dumps(line)
    assert "jane@example.com" not in text
    assert "Jane" not in text and "Doe" not in text
    assert line["note"] == "bounce from j***@example.com"


@pytest.mark.parametrize("key", ["email", "first_name", "last_name", "name", "full_name", "to"])
def test_personal_keys_are_redacted_whatever_their_value_looks_like(key: str) -> None:
    stream = _capture()
    get_logger("t").info("something", **{key: "Jane Doe"}, detail={key: "Jane Doe"})
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert (line[key], line["detail"][key]) == ("[redacted]", "[redacted]")


def test_stdlib_loggers_are_rendered_and_masked_too() -> None:
    stream = _capture()
    logging.getLogger("third.party").warning("rejected rcpt bob@example.net")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "rejected rcpt b***@example.net"
    assert line["level"] == "warning"


def test_console_format_is_for_people() -> None:
    stream = _capture("console")
    get_logger("t").info("hello", job_id="J-1")
    out = stream.getvalue()
    assert "hello" in out and "J-1" in out
    assert not out.lstrip().startswith("{")


def _record(name: str, msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_kafka_messages_alike_pass_once_per_window_then_say_how_many_were_held() -> None:
    now = [0.0]
    limiter = RepeatLimiter(prefix="kafka", window_s=60, clock=lambda: now[0])
    failed = "Connection failed: %s"
    assert limiter.filter(_record("kafka.net.manager", failed, "ECONNREFUSED"))
    now[0] = 10
    assert not limiter.filter(_record("kafka.net.manager", failed, "ETIMEDOUT"))
    assert not limiter.filter(_record("kafka.net.manager", failed, "ECONNREFUSED"))
    # Another template, logger or level is another message.
    assert limiter.filter(_record("kafka.net.manager", "Bootstrap %s not ready", "b-0"))
    assert limiter.filter(_record("kafka.net.connection", failed, "x"))
    assert limiter.filter(_record("kafka.net.manager", failed, "x", level=logging.WARNING))
    now[0] = 61
    again = _record("kafka.net.manager", failed, "ECONNREFUSED")
    assert limiter.filter(again)
    assert again.getMessage() == (
        "Connection failed: ECONNREFUSED (2 more like this held back since the last)"
    )
    assert not limiter.filter(_record("kafka.net.manager", failed, "ECONNREFUSED"))


def test_only_the_loggers_under_the_prefix_are_limited() -> None:
    limiter = RepeatLimiter(prefix="kafka", clock=lambda: 0.0)
    for name in ("reengage.worker", "kafkaesque"):
        assert all(limiter.filter(_record(name, "same")) for _ in range(3))


def test_configured_logging_limits_kafka_repeats() -> None:
    stream = _capture()
    for _ in range(5):
        logging.getLogger("kafka.net.manager").error("Connection failed: %s", "ECONNREFUSED")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["Connection failed: ECONNREFUSED"]


def test_the_limiter_forgets_quiet_kinds_to_bound_its_memory() -> None:
    now = [0.0]
    limiter = RepeatLimiter(prefix="kafka", window_s=60, clock=lambda: now[0])
    for n in range(5_000):  # messages formatted before logging: each text a kind
        now[0] = n * 0.1
        assert limiter.filter(_record("kafka.net.manager", f"Bootstrap attempt {n}"))
    assert len(limiter._seen) <= 1_000
    # A kind still inside its window is held back still.
    assert not limiter.filter(_record("kafka.net.manager", "Bootstrap attempt 4999"))


def test_lines_about_one_record_name_it_and_lines_about_others_do_not() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    log = get_logger("reengage.test")
    with about_one_record(topic="reengage.outreach", partition=2, offset=17):
        log.info("retrying")
        with about_no_record():
            log.info("read ahead")
        log.info("sent")
    log.info("after")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    named = [line["event"] for line in lines if line.get("offset") == 17]
    assert named == ["retrying", "sent"]
    assert [line["event"] for line in lines if "offset" not in line] == ["read ahead", "after"]
