"""Replay outcomes, the comparison of one call, and the reproduced verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from drvtape.schema.messages import DRV_OPEN, message_name


@dataclass(frozen=True)
class Outcome:
    kind: str  # "completed" | "diverged" | "fault" | "hang"
    seq: int | None = None  # where: the first differing call, the faulting call, the call that never returned
    msg: int | None = None
    expected: str | None = None  # diverged: what the recording had
    actual: str | None = None  # diverged: what this run did
    code: int | None = None  # fault: the exception code
    module: str | None = None
    offset: int | None = None

    def same_place(self, other: Outcome) -> bool:
        """Same kind at the same call (and for faults the same code and place)."""
        if self.kind != other.kind or self.seq != other.seq:
            return False
        if self.kind == "fault":
            return (self.code, self.module, self.offset) == (other.code, other.module, other.offset)
        return True

    def describe(self) -> str:
        where = f" at seq {self.seq} ({message_name(self.msg)})" if self.seq is not None and self.msg is not None else (
            f" at seq {self.seq}" if self.seq is not None else "")
        if self.kind == "fault":
            place = f" in {self.module}+0x{self.offset:X}" if self.module and self.offset is not None else (
                f" in {self.module}" if self.module else "")
            return f"fault 0x{self.code:08X}{place}{where}"
        if self.kind == "diverged":
            return f"diverged{where}: expected {self.expected}, got {self.actual}"
        return self.kind + where

    def to_json(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        if self.msg is not None:
            data["msg_name"] = message_name(self.msg)
        return data


class Diverged(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(outcome.describe())
        self.outcome = outcome


def lresult(value: int) -> str:
    return f"{value} (0x{value & 0xFFFFFFFFFFFFFFFF:X})" if value < 0 else f"{value} (0x{value:X})"


def check_return(call, actual: int, recorded_outcome: Outcome) -> None:
    """Raise Diverged when a call's return differs from the recording's.

    DRV_OPEN's value is a per-run instance id: only whether it is zero (refused) matters.
    """
    if call.result is None:
        if recorded_outcome.seq == call.seq and recorded_outcome.kind in ("fault", "hang"):
            expected = "a fault" if recorded_outcome.kind == "fault" else "no return (hang)"
            raise Diverged(Outcome("diverged", call.seq, call.msg, expected, f"return {lresult(actual)}"))
        return
    same = (call.result != 0) == (actual != 0) if call.msg == DRV_OPEN else call.result == actual
    if not same:
        raise Diverged(Outcome("diverged", call.seq, call.msg, f"return {lresult(call.result)}",
                               f"return {lresult(actual)}"))
