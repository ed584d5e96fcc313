from tests.unit.dlq.letters import OWN_HEADERS, dead_letter, job_opened
from worker.dlq.restore import REPLAYED_FROM_HEADER, destination, original_message
from worker.kafka.records import Record


def test_the_original_message_comes_back_byte_for_byte_with_its_own_headers() -> None:
    key, value = job_opened()
    letter = dead_letter(key, value, dlq_partition=1, dlq_offset=41)

    message = original_message(letter)

    assert message.topic == "ats.jobs"
    assert message.key == key
    assert message.value == value
    assert message.headers == (*OWN_HEADERS, (REPLAYED_FROM_HEADER, b"ats.jobs.dlq:1:41"))


def test_the_failure_headers_go_and_an_earlier_replays_header_is_replaced() -> None:
    letter = dead_letter(b"k", b"v", headers=(("dlq.replayed.from", b"x:0:1"), ("a", b"1")))
    headers = original_message(letter).headers
    assert headers == (("a", b"1"), (REPLAYED_FROM_HEADER, b"ats.jobs.dlq:0:0"))


def test_a_producers_own_dlq_headers_go_there_and_back() -> None:
    """Dead-lettered and replayed, a message keeps the headers its producer gave it, whatever
    their names: only the ones the dead letter got are taken off."""
    own = (("dlq.note", b"mine"), ("a", b"1"))
    letter = dead_letter(b"k", b"v", headers=own)
    assert original_message(letter).headers == (*own, (REPLAYED_FROM_HEADER, b"ats.jobs.dlq:0:0"))


def test_tombstones_and_null_keys_stay_null() -> None:
    message = original_message(dead_letter(b"k", None))
    assert (message.key, message.value) == (b"k", None)
    message = original_message(dead_letter(None, b"v"))
    assert (message.key, message.value) == (None, b"v")


def test_a_record_with_neither_key_nor_value_comes_back_with_an_empty_value() -> None:
    """As its dead letter went out (no Kafka client sends neither), without our header."""
    message = original_message(dead_letter(None, None))
    assert (message.key, message.value) == (None, b"")
    assert "dlq.original.null_value" not in dict(message.headers)
    # One put on the dead-letter topic by hand, with neither, goes back the same way.
    by_hand = Record("ats.jobs.dlq", 0, 0, None, None, ())
    assert (original_message(by_hand).key, original_message(by_hand).value) == (None, b"")


def test_the_header_names_the_destination_and_the_topic_name_is_the_fallback() -> None:
    named = Record("renamed.dlq", 0, 0, None, b"v", (("dlq.original.topic", b"ats.jobs"),))
    unnamed = Record("ats.candidates.dlq", 0, 0, None, b"v", ())
    assert destination(named) == "ats.jobs"
    assert destination(unnamed) == "ats.candidates"
