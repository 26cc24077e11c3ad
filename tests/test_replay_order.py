"""replay/order.happens_before, read from a CallTable's columns or from RecordedCalls, fed whole
or in pieces, against the rule written plainly (docs/replay.md): a call comes after the latest
call of each other thread whose return was recorded before it, and after the DRV_OPEN that
last returned the dwDriverId it carries."""

from hypothesis import given, settings
from hypothesis import strategies as st

from drvtape.replay.call_table import CallTable, order_fields
from drvtape.replay.order import HappensBefore, happens_before
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.recording import RecordedCall
from drvtape.schema.values import as_unsigned64


def _rule(calls):
    afters, id_from = [], []
    for call in calls:
        latest: dict[int, int] = {}
        opened: dict[int, int] = {}
        for j in sorted((j for j, c in enumerate(calls) if c.returned_at is not None and c.returned_at < call.seq),
                        key=lambda j: calls[j].returned_at):
            latest[calls[j].thread] = j
            c = calls[j]
            if c.msg == DRV_OPEN and c.result and c.entry_point is EntryPoint.DRIVER_PROC:
                opened[as_unsigned64(c.result)] = j
        afters.append(tuple(sorted(j for t, j in latest.items() if t != call.thread)))
        proc = call.entry_point is EntryPoint.DRIVER_PROC
        id_from.append(opened.get(as_unsigned64(call.driver_id)) if call.driver_id and proc else None)
    return afters, id_from


@st.composite
def sessions(draw):
    """Calls at even seqs; each returns at an odd seq after its call, or never."""
    count = draw(st.integers(1, 30))
    seqs = sorted(draw(st.sets(st.integers(1, 200), min_size=count, max_size=count)))
    calls = []
    for s in seqs:
        back = draw(st.one_of(st.none(), st.integers(0, 40)))
        calls.append(RecordedCall(
            2 * s, draw(st.integers(0, 3)), draw(st.sampled_from([DRV_OPEN, 4, 2049])),
            draw(st.sampled_from([0, 5, 6, (1 << 64) - 1])), 1, 0, 0, None,
            None if back is None else draw(st.sampled_from([0, 5, 6, -1])),
            None if back is None else 2 * (s + back) + 1,
            entry_point=draw(st.sampled_from([EntryPoint.DRIVER_PROC, EntryPoint.DRIVER_PROC, EntryPoint.WOD])),
            returned_id=None if back is None else 0))
    return calls


@settings(max_examples=300, deadline=None)
@given(sessions(), st.data())
def test_happens_before_follows_the_rule_from_columns_objects_and_pieces(calls, data):
    table = CallTable()
    for call in calls:
        table.append(call)
    expected = _rule(calls)
    assert happens_before(calls) == expected
    assert happens_before(table) == expected
    cut = data.draw(st.integers(0, len(calls)))
    order = HappensBefore()
    fields = list(order_fields(table))
    first, second = order.extend(fields[:cut]), order.extend(fields[cut:])
    assert (first[0] + second[0], first[1] + second[1]) == expected
