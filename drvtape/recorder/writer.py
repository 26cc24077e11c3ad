"""Writes the hook's buffered rows to the store in batches, off the caller's thread."""

import threading
import time
from collections.abc import Callable

from drvtape.store import Store


FIRST_BACKOFF, LAST_BACKOFF = 0.01, 1.0  # seconds between tries while the storage fails


class BatchWriter:
    """While the storage fails, tries again after a doubling pause (FIRST_BACKOFF up to
    LAST_BACKOFF), never at every hooked call: a flush or make_room asked for meanwhile
    sheds instead (`shed` keeps the buffer bounded; drvtape.recorder.losses counts what it
    drops)."""

    def __init__(self, store: Store, session_pk: int, take: Callable[[], tuple[list, dict]],
                 give_back: Callable[[list, dict], None],
                 shed: Callable[[BaseException], None], interval: float, batch_rows: int):
        self._store = store
        self._pk = session_pk
        self._take = take
        self._give_back = give_back
        self._shed = shed
        self._backoff = FIRST_BACKOFF
        self._retry_at = 0.0
        self._interval = interval
        self._batch_rows = batch_rows
        self.held = 0  # rows taken and not stored yet (read and written under _stored)
        self._wake = threading.Event()
        self.room_waits = 0  # make_room calls that found the buffer full: each a caller held up
        self.longest_room_wait_ns = 0  # the longest of them, wall time
        self._stored = threading.Condition()  # notified each time the writer has stored a batch
        self._stopping = False
        self.error: BaseException | None = None
        self._write_lock = threading.Lock()  # batches go in seq order even when flush() runs too
        self._thread = threading.Thread(target=self._loop, name="drvtape-writer", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self._interval)
            self._wake.clear()
            if not self._backing_off():
                with self._write_lock:
                    self._write_once()

    def flush(self) -> None:
        """Write what is buffered now, on the caller's thread; while backing off, shed instead."""
        error = self.error
        if error is not None and self._backing_off():
            self._shed(error)
            return
        with self._write_lock:
            self._write_once()

    def make_room(self, pending: Callable[[], int], limit: int) -> None:
        """While the buffer (`pending()` events) and what the writer holds unstored are `limit`
        events or more, wait for the writer to store a batch (never write them here: a caller
        that wrote a backlog itself froze its driver for seconds, issue 16); while the storage
        fails, shed instead (the buffer then keeps at most max_pending)."""
        if self.error is not None:
            self._shed(self.error)
            return
        self._wake.set()
        with self._stored:  # read under it, so the writer's notify is never missed
            if pending() + self.held < limit:
                return
            self.room_waits += 1
            started = time.perf_counter_ns()
            try:
                while pending() + self.held >= limit:
                    if self.error is not None:
                        self._shed(self.error)
                        return
                    self._wake.set()
                    self._stored.wait(self._interval)
            finally:
                self.longest_room_wait_ns = max(self.longest_room_wait_ns, time.perf_counter_ns() - started)

    def _backing_off(self) -> bool:
        return self.error is not None and time.monotonic() < self._retry_at

    def _write_once(self) -> None:
        """Take the whole buffer (one swap), then store it a batch (one transaction) at a time:
        a caller waiting for room waits for one batch, never the whole backlog."""
        rows, blobs = self._take()  # blobs: bytes the rows' memory blocks name
        self._set_held(len(rows))
        for start in range(0, len(rows), self._batch_rows):
            batch = rows[start:start + self._batch_rows]
            try:
                self._store.append_rows(self._pk, batch, blobs)  # the blobs before any row naming them
                self.error, self._backoff, blobs = None, FIRST_BACKOFF, None
            except Exception as exc:  # keep the rows; a later try, after the pause, writes them
                self._give_back(rows[start:], blobs or {})
                self._set_held(0)
                self.error = exc
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(2 * self._backoff, LAST_BACKOFF)
                return
            self._set_held(len(rows) - start - len(batch))

    def _set_held(self, rows: int) -> None:
        with self._stored:
            self.held = rows
            self._stored.notify_all()

    def stop(self) -> None:
        """Stop the thread and write what is left (once more, pause or not, if the last try failed)."""
        self._stopping = True
        self._wake.set()
        self._thread.join()
        with self._write_lock:
            self._write_once()
