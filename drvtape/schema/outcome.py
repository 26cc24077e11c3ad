"""How a run ended (OutcomeKind, Outcome), the comparison of one call, and the reproduced verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.values import lresult


class OutcomeKind(StrEnum):
    """How a run ended: the one vocabulary of replay, the schedule's verdict, the host's results.

    FAULT and HANG also say how the run's last call ended (a host result of a call that
    returned is HOST_RETURN in drvtape.formats.host_calls). The stored end of a session is
    its EndReason (drvtape.schema.events); recorder/ending.py maps a run onto it.
    """

    COMPLETED = "completed"  # every call returned (and, in a replay, as recorded)
    DIVERGED = "diverged"  # a replayed call returned otherwise than recorded
    FAULT = "fault"  # a call raised an exception (the process crashed)
    HANG = "hang"  # a call never returned


FAILURES = (OutcomeKind.FAULT, OutcomeKind.HANG)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    seq: int | None = None  # where: the first differing call, the faulting call, the call that never returned
    msg: int | None = None
    expected: str | None = None  # diverged: what the recording had
    actual: str | None = None  # diverged: what this run did
    code: int | None = None  # fault: the exception code
    module: str | None = None
    offset: int | None = None
    cls: DriverClass = DriverClass.DRV  # the class of the instance msg went to: how msg is named

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES

    def same_place(self, other: Outcome) -> bool:
        """Same kind at the same call (and for faults the same code and place)."""
        if self.kind != other.kind or self.seq != other.seq:
            return False
        if self.kind is OutcomeKind.FAULT:
            return (self.code, self.module, self.offset) == (other.code, other.module, other.offset)
        return True

    def to_json(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if v is not None and k != "cls"}
        data["kind"] = self.kind.value
        if self.msg is not None:
            data["msg_name"] = message_name(self.msg, self.cls)
        return data


COMPLETED = Outcome(OutcomeKind.COMPLETED)


class Diverged(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(f"diverged at seq {outcome.seq}: expected {outcome.expected}, got {outcome.actual}")
        self.outcome = outcome


def check_return(call, actual: int, recorded_outcome: Outcome) -> None:
    """Raise Diverged when a call's return differs from the recording's.

    DRV_OPEN's value is a per-run instance id: only whether it is zero (refused) matters
    (DriverProc's: a device entry point's message 3, MODM_OPEN, returns an MMRESULT).
    """
    if call.result is None:
        if recorded_outcome.seq == call.seq and recorded_outcome.failed:
            expected = "a fault" if recorded_outcome.kind is OutcomeKind.FAULT else "no return (hang)"
            raise Diverged(Outcome(OutcomeKind.DIVERGED, call.seq, call.msg, expected, f"return {lresult(actual)}",
                                   cls=call.cls))
        return
    instance_id = call.msg == DRV_OPEN and getattr(call, "entry_point", EntryPoint.DRIVER_PROC) is EntryPoint.DRIVER_PROC
    same = (call.result != 0) == (actual != 0) if instance_id else call.result == actual
    if not same:
        raise Diverged(Outcome(OutcomeKind.DIVERGED, call.seq, call.msg, f"return {lresult(call.result)}",
                               f"return {lresult(actual)}", cls=call.cls))
