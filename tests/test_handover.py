"""The lanes' gates (runtime/handover.py): the C module is built, and a gate of either kind
lets one waiter through per opening, refuses to be opened twice, and hands over in pass_to."""
import threading

import pytest

from drvtape.runtime.handover import NATIVE, Gate, LockGate, closed_gate


def test_the_c_gate_is_built():
    assert NATIVE, "drvtape.runtime.gate is not built (pip install -e . builds it)"
    assert isinstance(closed_gate(), Gate)


@pytest.fixture(params=["native", "lock"])
def make_gate(request):
    return Gate if request.param == "native" else LockGate


def test_an_open_gate_lets_one_through_and_cannot_be_opened_again(make_gate):
    gate = make_gate()
    gate.release()
    with pytest.raises(RuntimeError):
        gate.release()
    gate.acquire()  # open: goes through at once, and closes it
    gate.release()  # so it can be opened again


def test_pass_to_alternates_two_threads_strictly(make_gate):
    mine, theirs = make_gate(), make_gate()
    turns: list[str] = []
    rounds = 2_000

    def other() -> None:
        theirs.acquire()
        for _ in range(rounds - 1):
            turns.append("b")
            theirs.pass_to(mine)
        turns.append("b")
        mine.release()

    thread = threading.Thread(target=other)
    thread.start()
    for _ in range(rounds):
        turns.append("a")
        mine.pass_to(theirs)
    thread.join()
    assert turns == ["a", "b"] * rounds


def test_pass_to_refuses_an_open_gate_or_a_stranger_and_waits_for_nothing_then():
    gate, other = Gate(), Gate()
    other.release()
    with pytest.raises(RuntimeError):
        gate.pass_to(other)  # it would open twice: refused before anything is done
    other.acquire()
    with pytest.raises(TypeError):
        gate.pass_to(threading.Lock())
    with pytest.raises(TypeError):
        Gate(1)
