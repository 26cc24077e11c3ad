"""Events the storage could not take: counted, and reported in the session instead of a gap.

When a write fails (a full disk, an I/O error), the driver's caller still gets the driver's
result. From the first event that could not be stored on, nothing more of the session is
stored (storing later events would leave a hole in `seq`, which `verify` rightly calls a
removed event); they are counted. On close, the session gets a `mark` saying how many events
were lost from which seq and why, then its `end`, numbered on from the last stored event.
"""

from __future__ import annotations

import threading

from drvtape.schema.events import EndReason
from drvtape.schema.rows import end_row, mark_row


class Losses:
    def __init__(self):
        self.from_seq: int | None = None  # the first seq not stored
        self.count = 0
        self.error: BaseException | None = None

    def lose(self, first_seq: int, count: int, error: BaseException | None) -> None:
        if self.from_seq is None or first_seq < self.from_seq:
            self.from_seq = first_seq
        self.count += count
        if self.error is None and error is not None:
            self.error = error

    def report(self, ts_ns: int, reason: EndReason, call_seq: int | None, detail: str | None) -> list[tuple]:
        """The mark and end rows that close a session with losses, after its last stored event."""
        last_stored = self.from_seq - 1
        why = str(self.error).strip().splitlines()[0] if self.error is not None and str(self.error).strip() else \
            "memory bound reached while the storage failed"
        ident = threading.get_ident()
        text = f"{self.count} events from seq {self.from_seq} on were lost: the storage failed ({why})"
        end_call = call_seq if call_seq is not None and call_seq <= last_stored else None
        return [mark_row(last_stored + 1, ts_ns, ident, text),
                end_row(last_stored + 2, ts_ns, ident, reason, end_call, detail)]
