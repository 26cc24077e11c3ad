"""The thread-faithful lanes (runtime/schedule.py) on their plan (runtime/lane_plan.py): each
unit waits only for other lanes' events, and random partial orders run by the rule, in both
modes, with a unit that raises or hangs ending the run and leaving no lane behind."""

import random
import threading
import time

import pytest

from drvtape.runtime import schedule
from drvtape.runtime.coop import Coordinator
from drvtape.runtime.handover import LockGate
from drvtape.runtime.lane_plan import NOBODY, SEVERAL, plan_lanes
from drvtape.runtime.schedule import Schedule, run_faithful
from drvtape.schema.outcome import OutcomeKind


def test_a_unit_after_the_previous_units_return_waits_for_that_return_only():
    plan = plan_lanes(["a", "b", "a"], [(), (0,), (1,)])
    assert list(plan.waits) == [0, 1, 1]
    assert list(plan.return_next) == [1, 2, NOBODY]
    assert list(plan.issue_next) == [NOBODY] * 3


def test_overlapping_units_wait_for_the_previous_issue_and_their_own_lanes_units_for_nothing():
    plan = plan_lanes(["a", "b", "b", "a"], [(), (), (0,), (0,)])
    # 1 overlaps 0: 0's issue; 2: 0's return (1 is its lane's); 3: 2's issue (0 is its lane's)
    assert list(plan.waits) == [0, 1, 1, 1]
    assert list(plan.issue_next) == [1, NOBODY, 3, NOBODY]
    assert list(plan.return_next) == [2, NOBODY, NOBODY, NOBODY]


def test_a_return_several_units_wait_for_names_them_all():
    plan = plan_lanes(["a", "b", "c", "b"], [(), (0,), (0,), (0, 2)])
    assert plan.return_next[0] == SEVERAL and plan.return_more[0] == [1, 2, 3]
    assert plan.issue_next[1] == 2  # 2 overlaps 1
    assert list(plan.waits) == [0, 1, 2, 2]  # 2: 1's issue and 0's return; 3: 0's and 2's returns (2's implies its issue)


def random_session(rng: random.Random) -> tuple[list[int], list[tuple[int, ...]]]:
    n, lanes = rng.randint(1, 40), rng.randint(1, 4)
    threads = [rng.randrange(lanes) for _ in range(n)]
    after = []
    for j in range(n):
        others = [d for d in range(j) if threads[d] != threads[j]]
        after.append(tuple(sorted(rng.sample(others, min(len(others), rng.randint(0, 3))))))
    return threads, after


@pytest.fixture(params=["native", "lock"])
def gates(request, monkeypatch):
    """The lanes' gates: the C module's, and the Lock-made ones drvtape uses without it."""
    if request.param == "lock":
        monkeypatch.setattr(schedule, "closed_gate", LockGate)
    return request.param


@pytest.mark.parametrize("cooperative", [True, False], ids=["cooperative", "free"])
def test_random_partial_orders_run_by_the_rule_and_end_with_no_lane_left(cooperative, gates):
    rng = random.Random(12)
    lanes_before = threading.active_count()
    for _ in range(150):
        threads, after = random_session(rng)
        n = len(threads)
        issued, returned, broken = [False] * n, [False] * n, []
        previous: dict[int, int] = {}
        raises = rng.randrange(n) if rng.random() < 0.2 else -1
        hangs = rng.randrange(n) if cooperative and raises < 0 and rng.random() < 0.2 else -1
        coordinator = Coordinator()

        def run(j: int) -> None:
            own = previous.get(threads[j])
            if (j and not issued[j - 1]) or (own is not None and not returned[own]) or \
                    not all(returned[d] for d in after[j]):
                broken.append(j)
            issued[j] = True
            previous[threads[j]] = j
            if rng.random() < 0.3:
                time.sleep(0)  # let another lane in between
            if j == raises:
                raise ValueError(j)
            if j == hangs:
                coordinator.wait_until(lambda: False)
            returned[j] = True

        done = run_faithful(Schedule(threads, list(range(n)), after, run), coordinator, cooperative=cooperative,
                            timeout=5)
        assert broken == []
        if raises >= 0:
            assert done.kind is OutcomeKind.FAULT and done.unit.label == raises
        elif hangs >= 0:
            assert done.kind is OutcomeKind.HANG and hangs in [u.label for u in done.hung]
        else:
            assert done.kind is OutcomeKind.COMPLETED and all(returned)
    deadline = time.monotonic() + 5
    while threading.active_count() > lanes_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == lanes_before  # every lane ended, the abandoned ones too


class CountingGate(LockGate):
    """A Lock-made gate that counts how often lanes open gates (a hand-over opens one)."""

    __slots__ = ()
    opened = 0

    def __init__(self):
        super().__init__()
        lock_release = self.release

        def release():
            CountingGate.opened += 1
            lock_release()

        self.release = release


@pytest.mark.parametrize("cooperative", [True, False], ids=["cooperative", "free"])
def test_a_run_of_one_threads_units_costs_no_hand_over_and_each_forced_one_costs_one(cooperative, monkeypatch):
    monkeypatch.setattr(schedule, "closed_gate", CountingGate)
    # five units of a, five of b recorded after a's fifth returned, five of a after b's last returned
    threads = [0] * 5 + [1] * 5 + [0] * 5
    after = [()] * 5 + [(4,)] * 5 + [(9,)] * 5
    order: list[int] = []
    for _ in range(20):
        CountingGate.opened = 0
        order.clear()
        done = run_faithful(Schedule(threads, list(range(15)), after, order.append), Coordinator(),
                            cooperative=cooperative, timeout=5)
        assert done.kind is OutcomeKind.COMPLETED and order == list(range(15))
        assert CountingGate.opened <= 2  # at most the two the recording forces
    alternating = [i % 2 for i in range(40)]
    CountingGate.opened = 0
    run_faithful(Schedule(alternating, list(range(40)), [()] + [(i - 1,) for i in range(1, 40)], order.append),
                 Coordinator(), cooperative=cooperative, timeout=5)
    assert CountingGate.opened <= 39  # one per call after the other thread's return, no more
