import io
import json
import logging

from worker.logs import configure_logging, get_logger, mask_emails


def test_mask_emails_keeps_first_letter_and_domain() -> None:
    assert mask_emails("to jane.doe@example.com now") == "to j***@example.com now"
    assert mask_emails("a@b.io, Zed+x@mail.example.org") == "a***@b.io, Z***@mail.example.org"
    assert mask_emails("no address here") == "no address here"
    assert mask_emails("<josé.martín@exämple.com>") == "<j***@exämple.com>"
    assert mask_emails("用户名@例子.中国 wrote") == "用***@例子.中国 wrote"
    assert mask_emails("'ünïcode+tag@mail.example.org'") == "'ü***@mail.example.org'"


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
