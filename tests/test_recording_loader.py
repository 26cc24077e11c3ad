"""recording_from_rows: calls in seq order whatever order their returns come in, a call that
never returned kept where it was issued, and repeated values held once."""

from drvtape.schema.events import EndReason
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.rows import call_row, end_row, return_row

USER = 0x801
HDRVR = 1 << 47


def test_overlapping_calls_are_in_seq_order_with_their_returns_and_the_hung_one_in_place(tapes):
    rows = [call_row(1, 0, 11, USER, 7, HDRVR, 1, 0, 0),
            call_row(2, 0, 22, USER, 7, HDRVR, 2, 0, 0),  # overlaps seq 1
            return_row(3, 0, 22, USER, 7, HDRVR, 20, 2, 1),  # seq 2 returns first
            call_row(4, 0, 33, USER, 7, HDRVR, 3, 0, 0),  # never returns
            return_row(5, 0, 11, USER, 7, HDRVR, 10, 1, 1),
            call_row(6, 0, 11, USER, 7, HDRVR, 4, 0, 0),
            return_row(7, 0, 11, USER, 7, HDRVR, 40, 6, 1),
            end_row(8, 0, 33, EndReason.HANG, call_seq=4)]
    recording = recording_from_rows(tapes.header(tapes.IDS["clean"]), rows)
    assert [(c.seq, c.thread, c.result, c.returned_at) for c in recording.calls] == [
        (1, 0, 10, 5), (2, 1, 20, 3), (4, 2, None, None), (6, 0, 40, 7)]
    assert recording.outcome.kind == "hang" and recording.outcome.seq == 4 and recording.outcome.msg == USER


def test_a_hang_named_at_a_call_that_returned_still_names_its_message(tapes):
    rows = [call_row(1, 0, 11, USER, 7, HDRVR, 1, 0, 0), return_row(2, 0, 11, USER, 7, HDRVR, 0, 1, 1),
            end_row(3, 0, 11, EndReason.HANG, call_seq=1)]
    recording = recording_from_rows(tapes.header(tapes.IDS["clean"]), rows)
    assert recording.outcome.msg == USER


def test_repeated_values_are_one_object_each(tapes):
    rows = []
    for i in range(100):
        rows += [call_row(2 * i + 1, 0, 11, int(str(USER)), int("7"), int(str(HDRVR)), i, 0, 0),
                 return_row(2 * i + 2, 0, 11, int(str(USER)), int("7"), int(str(HDRVR)), int("1000"), 2 * i + 1, 1)]
    calls = recording_from_rows(tapes.header(tapes.IDS["clean"]), rows).calls
    assert len({id(c.msg) for c in calls}) == len({id(c.hdrvr) for c in calls}) == 1
    assert len({id(c.result) for c in calls}) == 1
