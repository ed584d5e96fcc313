"""The SMTP seam's pure parts: what a reply says in a status, and data transparency."""

from __future__ import annotations

import pytest

from worker.mailer.smtp import Refused, Reply, _dot_stuffed


def test_reply_detail_names_the_stage_and_hides_addresses() -> None:
    reply = Reply(550, "5.1.1 <jane.doe@example.com>: Recipient address rejected\r\n")
    assert reply.describe("rcpt") == "550 5.1.1 [address]: Recipient address rejected (at rcpt)"
    assert Reply(451, "4.3.0 try later").describe("end_of_data") == (
        "451 4.3.0 try later (at end of data)"
    )


def test_long_replies_are_cut() -> None:
    assert len(Reply(554, "x" * 5000).describe("data")) == 300


@pytest.mark.parametrize(
    ("code", "transient"), [(421, True), (451, True), (499, True), (500, False), (550, False)]
)
def test_4xx_is_transient_and_5xx_is_not(code: int, transient: bool) -> None:
    assert Reply(code, "").transient is transient


def test_only_a_refusal_of_the_end_of_data_comes_after_the_claim() -> None:
    assert Refused("end_of_data", Reply(451, "")).after_claim
    assert not Refused("rcpt", Reply(451, "")).after_claim


def test_dot_stuffing_keeps_the_end_of_data_unambiguous() -> None:
    data = b"line\r\n.\r\n..two\n.three\rend"
    assert _dot_stuffed(data) == b"line\r\n..\r\n...two\r\n..three\r\nend\r\n"
    assert _dot_stuffed(b"ok\r\n") == b"ok\r\n"


def test_reply_detail_hides_the_recipients_names_the_server_quotes() -> None:
    reply = Reply(550, "5.1.1 <zq@example.com>: Recipient ZEBULON Quixotesque unknown; al ok")
    assert reply.describe("rcpt", ("Zebulon", "Quixotesque", "Al")) == (
        "550 5.1.1 [address]: Recipient [name] [name] unknown; [name] ok (at rcpt)"
    )


def test_names_are_masked_as_whole_words_only() -> None:
    """So a short name or a plain local part hides the person, not the server's words."""
    reply = Reply(550, "5.1.1 user li (Li Wu) unknown; <catlover>: no information for info")
    assert reply.describe("rcpt", ("Li", "Wu", "Li Wu", "catlover", "info")) == (
        "550 5.1.1 user [name] ([name]) unknown; <[name]>: no information for [name] (at rcpt)"
    )


def test_a_name_inside_an_address_leaves_the_address_mask_whole() -> None:
    reply = Reply(550, "5.1.1 <dre.smith@example.com>: Dre Smith unknown")
    assert reply.describe("rcpt", ("Dre", "Smith", "Dre Smith")) == (
        "550 5.1.1 [address]: [name] unknown (at rcpt)"
    )


def test_reply_detail_hides_an_address_quoted_in_a_url_or_spelled_out() -> None:
    reply = Reply(
        550,
        "mailbox kk.rjx3 at pii-c.example unknown, see https://x.test/?rcpt=kk.rjx3%40pii-c.example",
    )
    assert reply.describe("rcpt", ("kk.rjx3",)) == (
        "550 mailbox [name] at pii-c.example unknown, see [address] (at rcpt)"
    )
