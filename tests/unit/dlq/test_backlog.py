from worker.dlq.backlog import Backlog, Span
from worker.kafka.records import Record


def _at(partition: int, offset: int) -> Record:
    return Record("ats.jobs.dlq", partition, offset, None, b"v")


def test_the_backlog_runs_from_the_committed_offset_to_the_end_seen_at_start() -> None:
    backlog = Backlog({0: Span(3, 6), 1: Span(5, 5)})
    assert backlog.pending == 3
    assert not backlog.caught_up()
    assert backlog.caught_up([1])
    assert [backlog.due(_at(0, n)) for n in (3, 5, 6)] == [True, True, False]


def test_handling_records_advances_until_caught_up() -> None:
    backlog = Backlog({0: Span(3, 6), 1: Span(0, 2)})
    backlog.advance(_at(0, 3))
    backlog.advance(_at(0, 5))
    assert backlog.pending == 2
    assert backlog.caught_up([0])
    assert not backlog.caught_up()
    backlog.advance(_at(1, 1))
    assert backlog.caught_up()
    assert backlog.pending == 0


def test_a_record_past_the_end_means_the_partition_is_caught_up() -> None:
    # Offsets below the end that never arrive (gaps) cannot hold the replay forever.
    backlog = Backlog({0: Span(0, 4)})
    backlog.advance(_at(0, 9))
    assert backlog.caught_up()


def test_an_empty_topic_is_caught_up_from_the_start() -> None:
    assert Backlog({0: Span(0, 0), 1: Span(4, 4)}).caught_up()
    assert Backlog({}).caught_up()
