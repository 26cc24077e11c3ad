"""The schedule cases (tests/schedule_cases.py) against drvhost's scheduler, with order_log.c."""
import pytest

from drvtape.dllhost import HostCall, run_dll
from drvtape.replay.order import call_orders
from tests.schedule_cases import CASES, check_run


def host_calls(case) -> list[HostCall]:
    calls = case.calls()
    return [HostCall(seq=c.seq, thread=c.thread, driver_id=0, hdrvr=c.hdrvr, msg=c.msg, lparam1=c.lparam1,
                     lparam2=c.lparam2, after=o.after, id_from=o.id_from)
            for c, o in zip(calls, call_orders(calls))]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_drvhost_keeps_the_recorded_order(case, driver):
    dll = driver("order_log")
    calls = host_calls(case)
    by_seq = {c.seq: c.lparam1 for c in calls}
    for _ in range(3):
        results = run_dll(dll, calls, timeout_s=1.0, stop_on_divergence=False)
        assert [r.kind for r in results if not r.returned] == (["hang"] if case.hangs else [])
        check_run(case, {by_seq[r.seq]: r.result for r in results if r.returned})
