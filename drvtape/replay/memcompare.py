"""Comparing what this run's driver wrote with what the recording captured after each call.

Each return-phase block is compared up to the bytes the recording kept (all of it, or up to
`captured` when the recorder's cap truncated it), skipping pointer fields (what they point
at is compared as a block of its own) and driver-owned fields (the driver keeps its own
pointers there: they differ from run to run by nature).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from drvtape.replay.memory import OutputRead, segments
from drvtape.schema.outcome import Outcome, OutcomeKind
from drvtape.schema.recording import RecordedCall, Recording


@dataclass(frozen=True)
class MemoryDifference:
    seq: int
    name: str  # the message's name
    path: str  # the block: "lparam1.lpOutput"
    offset: int  # the first differing byte in it
    field: str | None  # the named field holding that byte, when the layout names one
    recorded: int
    replayed: int | None  # None: the driver's block was shorter

    def text(self) -> str:
        """seq 57 ICM_DECOMPRESS: lparam1.lpOutput differs from byte 1204 (recorded 0x3A, replayed 0x00)"""
        where = f"{self.path}.{self.field} differs at byte {self.offset}" if self.field else \
            f"{self.path} differs from byte {self.offset}"
        replayed = "nothing" if self.replayed is None else f"0x{self.replayed:02X}"
        return f"seq {self.seq} {self.name}: {where} (recorded 0x{self.recorded:02X}, replayed {replayed})"

    def outcome(self, call: RecordedCall) -> Outcome:
        """The run's outcome: diverged at this call."""
        where = f"{self.path}.{self.field}" if self.field else self.path
        return Outcome(OutcomeKind.DIVERGED, self.seq, call.msg, expected=f"{where} byte {self.offset} = "
                       f"0x{self.recorded:02X}", actual="nothing" if self.replayed is None else f"0x{self.replayed:02X}",
                       cls=call.cls)


@dataclass(frozen=True)
class Compared:
    outputs: int  # blocks compared
    bytes: int  # bytes compared in them
    difference: MemoryDifference | None  # the first one


def compare_outputs(recording: Recording, seq: int, name: str, reads: Sequence[OutputRead],
                    replayed: Sequence[tuple[int, int, bytes]]) -> Compared:
    """reads: what the plan read back after the call; replayed: the host's (block, offset, bytes), in the same order."""
    outputs = compared = 0
    for read, (_block, _offset, data) in zip(reads, replayed):
        recorded = recording.blob(read.recorded.sha256)
        ranges = segments(len(recorded), read.node.skipped() if read.node else [])
        outputs += 1
        compared += sum(end - start for start, end in ranges)
        offset = _first_difference(recorded, data, ranges)
        if offset is not None:
            field = read.node.field_at(offset) if read.node else None
            actual = data[offset] if offset < len(data) else None
            return Compared(outputs, compared, MemoryDifference(seq, name, read.recorded.path, offset, field,
                                                                recorded[offset], actual))
    return Compared(outputs, compared, None)


class OutputTally:
    """A run's comparisons added up, from whichever replay thread made them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = Compared(0, 0, None)

    def add(self, compared: Compared) -> None:
        with self._lock:
            t = self.total
            self.total = Compared(t.outputs + compared.outputs, t.bytes + compared.bytes,
                                  t.difference or compared.difference)


def _first_difference(recorded: bytes, replayed: bytes, ranges: Sequence[tuple[int, int]]) -> int | None:
    if recorded == replayed[:len(recorded)] and len(replayed) >= len(recorded):
        return None
    for start, end in ranges:
        if recorded[start:end] != replayed[start:end]:
            return next(i for i in range(start, end) if i >= len(replayed) or recorded[i] != replayed[i])
    return None
