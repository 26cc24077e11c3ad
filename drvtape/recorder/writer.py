"""Writes the hook's buffered rows to the store in batches, off the caller's thread."""

import threading
from collections.abc import Callable

from drvtape.store import Store


class BatchWriter:
    def __init__(self, store: Store, session_pk: int, take: Callable[[], list], give_back: Callable[[list], None],
                 interval: float, batch_rows: int):
        self._store = store
        self._pk = session_pk
        self._take = take
        self._give_back = give_back
        self._interval = interval
        self._batch_rows = batch_rows
        self._wake = threading.Event()
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
            with self._write_lock:
                self._write_once()

    def flush(self) -> None:
        """Write what is buffered now, on the caller's thread."""
        with self._write_lock:
            self._write_once()

    def _write_once(self) -> None:
        rows = self._take()
        # One transaction per batch: a backlog is committed steadily, not all at the end.
        for start in range(0, len(rows), self._batch_rows):
            try:
                self._store.append_rows(self._pk, rows[start:start + self._batch_rows])
                self.error = None
            except Exception as exc:  # keep the rows; a later flush retries them
                self._give_back(rows[start:])
                self.error = exc
                return

    def stop(self) -> None:
        """Stop the thread and write what is left (once more if the last try failed)."""
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self.flush()
