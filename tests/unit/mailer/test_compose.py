"""The message: content, headers, and what hostile or unusual names cannot do to it."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from worker.contracts.examples import example_messages
from worker.contracts.outreach import OutreachRequested
from worker.mailer.compose import Sender, UnusableAddressError, compose
from worker.settings import ConfigurationError, Settings

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SENDER = Sender(
    address="talent@acme.example",
    display_name="Acme Talent",
    domain="acme.example",
    job_board_url="https://jobs.acme.example/",
    unsubscribe_url="https://jobs.acme.example/u?t={tenant_id}&c={candidate_id}&o={outreach_id}",
)
EXPECTED_HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
}


def _request() -> OutreachRequested:
    event = example_messages()["reengage.outreach.requested"].event
    assert isinstance(event.data, OutreachRequested)
    return event.data


def _with(request: OutreachRequested, **candidate: object) -> OutreachRequested:
    # model_copy does not validate: values the contract would refuse reach compose too.
    return request.model_copy(update={"candidate": request.candidate.model_copy(update=candidate)})


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.defects == []
    return message


def _bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content()


def test_the_message_says_who_why_what_and_how_to_stop() -> None:
    request = _request()
    composed = compose(request, SENDER, NOW)
    message = _parse(composed.as_bytes())

    assert set(message.keys()) == EXPECTED_HEADERS
    assert message["From"] == "Acme Talent <talent@acme.example>"
    assert message["To"] == "Jane Doe <jane.doe@example.com>"
    assert message["Subject"] == "Senior Data Analyst: a role that fits your experience"
    assert message["Message-ID"] == f"<{request.outreach_id}@acme.example>"
    assert message["Date"] == "Fri, 20 Nov 2026 10:00:00 +0000"
    assert message["List-Unsubscribe"] == (
        f"<https://jobs.acme.example/u?t=acme&c=C-77&o={request.outreach_id}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert (composed.envelope_from, composed.envelope_to) == (
        "talent@acme.example",
        "jane.doe@example.com",
    )

    text, html = _bodies(message)
    assert text.startswith("Hello Jane,\n\n" + request.reason.summary + "\n")
    assert "What matched on your profile: SQL and Tableau" in text
    assert "(and, a plus for this role, Python)" in text
    assert "Your last application with us: Data Analyst, March 2025" in text
    assert "See the role and apply: https://careers.acme.example/jobs/J-1042" in text
    assert (
        f"unsubscribe here: https://jobs.acme.example/u?t=acme&c=C-77&o={request.outreach_id}"
        in text
    )
    # In HTML the link has a label of its own, not the sentence that leads to it again.
    assert (
        'See the role and apply: <a href="https://careers.acme.example/jobs/J-1042">'
        "Open the job posting</a>" in html
    )
    assert f"&amp;o={request.outreach_id}" in html
    assert "<p>Hello Jane,</p>" in html


@pytest.mark.parametrize("prefix", ["--reengage-", "--=_reengage-", "=_reengage-"])
def test_no_title_or_summary_can_end_a_part_early(prefix: str) -> None:
    request = _request()
    marker = f"{prefix}{request.outreach_id}"
    for field in ("title", "summary"):
        for value in (f"{marker}--", marker, "x" * 67 + marker + "--"):
            if field == "title":
                changed = request.model_copy(
                    update={"job": request.job.model_copy(update={"title": value})}
                )
            else:
                changed = request.model_copy(
                    update={"reason": request.reason.model_copy(update={"summary": value})}
                )
            message = _parse(compose(changed, SENDER, NOW).as_bytes())
            parts = [part.get_content_type() for part in message.iter_parts()]
            assert parts == ["text/plain", "text/html"], (field, value)
            text, html = _bodies(message)
            assert "unsubscribe here:" in text and "Stop these emails" in html


def test_the_reason_given_for_the_email_matches_the_candidate_s_history() -> None:
    applied = _request()
    assert applied.reason.previous_application is not None
    sourced = applied.model_copy(
        update={"reason": applied.reason.model_copy(update={"previous_application": None})}
    )
    applied_text, _ = _bodies(_parse(compose(applied, SENDER, NOW).as_bytes()))
    sourced_text, sourced_html = _bodies(_parse(compose(sourced, SENDER, NOW).as_bytes()))
    assert "because you applied with us before" in applied_text
    assert "applied with us" not in sourced_text and "applied with us" not in sourced_html
    assert "because your profile is in our candidate pool" in sourced_text


def test_the_same_outreach_gives_the_same_message_bytes_but_for_the_date() -> None:
    request = _request()
    first = compose(request, SENDER, NOW).as_bytes()
    again = compose(request, SENDER, datetime(2027, 1, 1, tzinfo=UTC)).as_bytes()
    strip_date = re.compile(rb"^Date: .*\r\n", re.MULTILINE)
    assert strip_date.sub(b"", first) == strip_date.sub(b"", again)


def test_without_apply_url_it_links_the_job_board_and_without_that_invites_a_reply() -> None:
    request = _request()
    no_url = request.model_copy(update={"job": request.job.model_copy(update={"apply_url": None})})
    text, _ = _bodies(_parse(compose(no_url, SENDER, NOW).as_bytes()))
    assert "on our job board: https://jobs.acme.example/" in text

    bare = Sender("talent@acme.example", "", "acme.example", None, None)
    message = _parse(compose(no_url, bare, NOW).as_bytes())
    text, _ = _bodies(message)
    assert "Interested? Reply to this email" in text
    assert "reply with the word “unsubscribe”" in text
    # Without an HTTPS link there is no one-click unsubscribe (RFC 8058), only the mailto.
    assert message["List-Unsubscribe"] == (
        f"<mailto:talent@acme.example?subject=unsubscribe%20{request.outreach_id}>"
    )
    assert "List-Unsubscribe-Post" not in message
    assert message["From"] == "talent@acme.example"


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Jane\r\nBcc: attacker@evil.example", "Doe"),
        ("Jane\nSubject: free money", "Doe\r\n\r\n<html>injected body"),
        ("Jane\x00\x0b\x0c\u2028\u2029", "Doe\x85"),
        ("=?utf-8?q?Bcc=3A_x=40evil=2Eexample?=", "Doe"),
        ("=?utf-8?q?=0D=0ABcc:_x@evil.example?=", '"=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?="'),
        ('"Jane" <attacker@evil.example>, x', "Doe"),
    ],
)
def test_line_breaks_in_names_inject_nothing(first: str, last: str) -> None:
    request = _with(_request(), first_name=first, last_name=last)
    data = compose(request, SENDER, NOW).as_bytes()
    message = _parse(data)

    assert set(message.keys()) == EXPECTED_HEADERS
    assert len(message.get_all("To") or []) == 1
    assert message["To"].addresses[0].addr_spec == "jane.doe@example.com"
    assert len(message["To"].addresses) == 1
    assert "Bcc" not in message
    header_block = data.split(b"\r\n\r\n", 1)[0]
    for line in header_block.split(b"\r\n"):
        assert re.match(rb"^([A-Za-z-]+: |[ \t])", line), line  # a header or a continuation
    text, _ = _bodies(message)
    assert "\x00" not in text


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?=0D=0ABcc=3A_x=40evil.example?=@example.com",
        "=?utf-8?q?=0D=0AReply-To=3A_a=40evil.example?=@example.com",
        "=?utf-8?q?=0D=0A=0D=0AClick_here?=@example.com",
        "=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=@example.com",
    ],
)
def test_encoded_words_in_the_address_inject_nothing(address: str) -> None:
    """A local part may be made of the characters of an RFC 2047 encoded word: a valid
    address, written as given, never decoded into a line break."""
    composed = compose(_with(_request(), email=address), SENDER, NOW)
    data = composed.as_bytes()
    message = _parse(data)

    assert set(message.keys()) == EXPECTED_HEADERS
    assert "Bcc" not in message and "Reply-To" not in message
    assert composed.envelope_to == address
    header_block = data.split(b"\r\n\r\n", 1)[0]
    assert f"<{address}>".encode() in header_block
    for line in header_block.split(b"\r\n"):
        assert re.match(rb"^([A-Za-z-]+: |[ \t])", line), line


@pytest.mark.parametrize(
    "name",
    ["Zoë", "Renée-Østergård", "李小龍", "Jane 👩🏽‍💻🚀", "ﬁ\u200dﬂ", "A" * 500, "Ä😀" * 250],
)
def test_non_ascii_and_very_long_names_make_valid_7bit_messages(name: str) -> None:
    request = _with(_request(), first_name=name, last_name=name)
    data = compose(request, SENDER, NOW).as_bytes()
    data.decode("ascii")  # 7-bit clean: encoded words and quoted-printable
    assert max(len(line) for line in data.split(b"\r\n")) <= 998  # RFC 5322's hard limit
    message = _parse(data)

    # Compared without whitespace: Python's parser keeps the folding space between the
    # encoded words of a long name, which RFC 2047 readers drop.
    display = "".join(message["To"].addresses[0].display_name.split())
    assert display.startswith("".join(name.split())[:20])
    assert len(display) <= 100
    text, html = _bodies(message)
    assert text.startswith("Hello " + name[:20])
    assert name[:20] in html


def test_html_in_names_and_titles_is_escaped() -> None:
    request = _with(_request(), first_name="<script>alert(1)</script>")
    request = request.model_copy(
        update={"job": request.job.model_copy(update={"title": 'Analyst <img src=x onerror="y">'})}
    )
    _, html = _bodies(_parse(compose(request, SENDER, NOW).as_bytes()))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html


def test_a_long_title_is_cut_and_the_subject_folded() -> None:
    request = _request()
    long_title = "Senior Principal Staff Data Analyst " * 8
    request = request.model_copy(
        update={"job": request.job.model_copy(update={"title": long_title})}
    )
    data = compose(request, SENDER, NOW).as_bytes()
    subject = _parse(data)["Subject"]
    assert subject.endswith("…: a role that fits your experience")
    assert len(subject) <= 120 + len(": a role that fits your experience")
    header_block = data.split(b"\r\n\r\n", 1)[0].decode()
    folded_subject = re.search(r"^Subject: .*?(?=\r\n\S)", header_block, re.M | re.S)
    assert folded_subject is not None
    assert all(len(line) <= 78 for line in folded_subject.group(0).split("\r\n"))


@pytest.mark.parametrize(
    "title",
    ["Analyst =?utf-8?q?=0D=0ABcc:_x@evil.example?= role", "=?utf-8?b?DQpCY2M6IGV2aWw=?="],
)
def test_encoded_words_in_a_title_inject_nothing(title: str) -> None:
    request = _request()
    request = request.model_copy(update={"job": request.job.model_copy(update={"title": title})})
    message = _parse(compose(request, SENDER, NOW).as_bytes())
    assert set(message.keys()) == EXPECTED_HEADERS
    assert "Bcc" not in message
    assert "\n" not in message["Subject"]


def test_unsubscribe_placeholders_are_percent_encoded() -> None:
    request = _with(_request(), candidate_id="C 77/&x=1")
    message = _parse(compose(request, SENDER, NOW).as_bytes())
    assert f"c=C%2077%2F%26x%3D1&o={request.outreach_id}>" in message["List-Unsubscribe"]


def test_internationalised_domains_are_sent_in_idna_form() -> None:
    composed = compose(_with(_request(), email="jane@bücher.example"), SENDER, NOW)
    assert composed.envelope_to == "jane@xn--bcher-kva.example"
    assert not composed.smtputf8


def test_a_non_ascii_local_part_needs_smtputf8() -> None:
    composed = compose(_with(_request(), email="zoë@example.com"), SENDER, NOW)
    assert composed.smtputf8
    assert composed.envelope_to == "zoë@example.com"
    message = email.message_from_string(composed.as_bytes().decode(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "zoë@example.com"


@pytest.mark.parametrize(
    "address", ["not an address", "jane@", "jane@example.com\r\nBcc: x@evil.example", "@x.y"]
)
def test_an_unusable_address_is_refused(address: str) -> None:
    with pytest.raises(UnusableAddressError):
        compose(_with(_request(), email=address), SENDER, NOW)


def test_the_names_kept_out_of_reports_include_the_address_s_local_part() -> None:
    request = _with(_request(), email="kk.rjx3@pii-c.example")
    assert "kk.rjx3" in compose(request, SENDER, NOW).names
    plain = _with(_request(), email="catlover@pii-c.example")  # a plain word: masked whole
    assert "catlover" in compose(plain, SENDER, NOW).names


@pytest.mark.parametrize(
    ("changes", "variable", "says"),
    [
        ({}, "REENGAGE_MAIL_FROM", "required"),
        ({"mail_from": "not an address"}, "REENGAGE_MAIL_FROM", "not an email address"),
        # parseaddr took the first of a list, and guessed the ">" of an unclosed bracket.
        ({"mail_from": "t@acme.example, u@acme.example"}, "REENGAGE_MAIL_FROM", "not an email"),
        ({"mail_from": "Talent <t@acme.example"}, "REENGAGE_MAIL_FROM", "not an email address"),
        ({"mail_from": "Talent <t@acme.example> x"}, "REENGAGE_MAIL_FROM", "not an email"),
        ({"mail_from": "T <t@acme.example>\r\nBcc: x@y.example"}, "REENGAGE_MAIL_FROM", "line"),
        (
            {
                "mail_from": "t@acme.example",
                "mail_unsubscribe_url": "https://a.example/u/{candidat_id}",
            },
            "REENGAGE_MAIL_UNSUBSCRIBE_URL",
            "unknown placeholder {candidat_id}",
        ),
    ],
)
def test_sender_settings_are_refused_naming_the_variable(
    changes: dict[str, str], variable: str, says: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Sender.from_settings(Settings(**changes))
    assert caught.value.variable == variable and says in str(caught.value)


def test_sender_takes_known_placeholders() -> None:
    url = "https://a.example/u/{tenant_id}/{candidate_id}?o={outreach_id}"
    sender = Sender.from_settings(Settings(mail_from="t@acme.example", mail_unsubscribe_url=url))
    assert sender.unsubscribe_url == url


@pytest.mark.parametrize(
    ("mail_from", "name", "address"),
    [
        ("t@acme.example", "", "t@acme.example"),
        ("Acme Talent <t@acme.example>", "Acme Talent", "t@acme.example"),
        ('"Acme, Talent" <t@acme.example>', "Acme Talent", "t@acme.example"),  # `,` dropped
        ("=?utf-8?q?Zo=C3=AB?= <t@acme.example>", "Zoë", "t@acme.example"),
        ("Acme Corp. <t@acme.example>", "Acme Corp.", "t@acme.example"),  # obsolete, not wrong
        ("J. Smith <t@acme.example>", "J. Smith", "t@acme.example"),
    ],
)
def test_one_sender_is_read_with_its_name(mail_from: str, name: str, address: str) -> None:
    sender = Sender.from_settings(Settings(mail_from=mail_from))
    assert (sender.display_name, sender.address) == (name, address)


@pytest.mark.parametrize(
    ("url", "one_click"),
    [("HTTPS://jobs.acme.example/u", True), ("MAILTO:optout@acme.example", False)],
)
def test_an_unsubscribe_scheme_is_read_in_any_case(url: str, one_click: bool) -> None:
    sender = Sender("talent@acme.example", "", "acme.example", None, url)
    message = _parse(compose(_request(), sender, NOW).as_bytes())
    text, _ = _bodies(message)
    assert ("List-Unsubscribe-Post" in message) is one_click
    assert ("reply with the word “unsubscribe”" in text) is not one_click
