"""The schedule cases (tests/schedule_cases.py) against the Python lanes."""
import pytest

from drvtape.replay.order import call_orders
from drvtape.runtime.coop import Coordinator
from drvtape.runtime.schedule import Unit, run_schedule
from drvtape.schema.outcome import OutcomeKind
from tests.schedule_cases import CASES, PyOrderDriver, check_run


def run_case(case) -> dict[int, int]:
    driver = PyOrderDriver()
    results: dict[int, int] = {}
    calls = case.calls()

    def unit(call, order) -> Unit:
        def run():
            results[call.lparam1] = driver(call.lparam1, call.lparam2)
        return Unit(call.thread, run, call.seq, order.after)

    try:
        done = run_schedule([unit(c, o) for c, o in zip(calls, call_orders(calls))], Coordinator(),
                            cooperative=False, timeout=0.5)
        returned = dict(results)  # before a hung call is let go
    finally:
        driver.release.set()
    assert done.kind is (OutcomeKind.HANG if case.hangs else OutcomeKind.COMPLETED)
    return returned


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_lanes_keep_the_recorded_order(case):
    for _ in range(5):
        check_run(case, run_case(case))
