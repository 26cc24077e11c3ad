"""A stalled storage never stalls the hook's caller within the loss bound (issue 16 item 3).

The writer is made to stall: the store's append_rows waits on a gate the test opens. The
caller's calls go on meanwhile (nothing on the caller's thread writes or waits for the
writer's lock); once the buffer holds max_pending events, the caller waits for the writer to
take them, so what a crash could lose stays at most 2 * max_pending (docs/reliability.md).
"""

import threading

from drvtape.recorder import Recorder
from drvtape.schema.rows import Kind
from drvtape.store import Store

GATE_S = 60  # a caller that waited on the stalled writer would hang this long


class StalledStore:
    """Makes store.append_rows wait on a gate; notes the threads that wrote."""

    def __init__(self, store: Store):
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.threads: set[int] = set()
        self._append = store.append_rows
        store.append_rows = self.append_rows

    def append_rows(self, session_pk, rows, *blobs):
        self.threads.add(threading.get_ident())
        self.entered.set()
        self.gate.wait(GATE_S)
        self._append(session_pk, rows, *blobs)


def driver_counting(seen: list):
    def proc(driver_id, hdrvr, msg, lparam1, lparam2):
        seen.append(lparam1)
        return lparam1
    return proc


def in_thread(fn) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def test_calls_go_on_while_the_writer_is_stalled_and_all_are_stored_after(tmp_path):
    with Store.open(tmp_path / "stall.db", create=True) as store:
        stalled = StalledStore(store)
        seen: list = []
        rec = Recorder(store, driver="stall", batch_size=64, max_pending=4096, flush_interval=0.001)
        hooked = rec.wrap(driver_counting(seen))
        hooked(0, 1, 0x4001, -1, 0)
        assert stalled.entered.wait(GATE_S)  # the writer took the first event and is stuck writing it
        caller = in_thread(lambda: [hooked(0, 1, 0x4001, i, 0) for i in range(1500)])  # 3,000 events < 4,096
        caller.join(GATE_S / 2)
        assert not caller.is_alive(), "the caller waited on the stalled writer"
        assert caller.ident not in stalled.threads
        assert not stalled.gate.is_set() and len(seen) == 1501
        stalled.gate.set()
        rec.close()
        rows = store.rows(store.resolve("last").pk)
    assert [r.lparam1 for r in rows if r.kind == Kind.CALL] == [-1, *range(1500)]
    assert rows[-1].kind == Kind.END and len(rows) == 2 * 1501 + 1


def test_a_stalled_writer_keeps_the_loss_bound(tmp_path):
    max_pending = 256
    with Store.open(tmp_path / "bound.db", create=True) as store:
        stalled = StalledStore(store)
        seen: list = []
        rec = Recorder(store, driver="bound", batch_size=64, max_pending=max_pending, flush_interval=0.001)
        hooked = rec.wrap(driver_counting(seen))
        caller = in_thread(lambda: [hooked(0, 1, 0x4001, i, 0) for i in range(10 * max_pending)])
        assert stalled.entered.wait(GATE_S)
        caller.join(0.5)  # the caller runs until the buffer is full, then waits for the writer
        assert caller.is_alive()
        # unsaved: the batch the writer holds (at most max_pending) and the buffer (below it)
        assert 2 * len(seen) <= 2 * max_pending + 2, f"{2 * len(seen)} events unsaved"
        stalled.gate.set()
        caller.join(GATE_S)
        assert not caller.is_alive()
        assert caller.ident not in stalled.threads, "the caller wrote the backlog itself"
        rec.close()
        rows = store.rows(store.resolve("last").pk)
    assert [r.lparam1 for r in rows if r.kind == Kind.CALL] == list(range(10 * max_pending))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))


def test_calls_that_waited_for_room_are_counted(tmp_path):
    max_pending = 64
    with Store.open(tmp_path / "waits.db", create=True) as store:
        hooked_free = Recorder(store, driver="free", batch_size=64, max_pending=1 << 20, flush_interval=0.001)
        proc = hooked_free.wrap(driver_counting([]))
        for i in range(500):
            proc(0, 1, 0x4001, i, 0)
        hooked_free.close()
        assert hooked_free.room_waits == 0
        stalled = StalledStore(store)
        rec = Recorder(store, driver="waits", batch_size=16, max_pending=max_pending, flush_interval=0.001)
        hooked = rec.wrap(driver_counting([]))
        caller = in_thread(lambda: [hooked(0, 1, 0x4001, i, 0) for i in range(4 * max_pending)])
        assert stalled.entered.wait(GATE_S)
        caller.join(0.5)
        assert caller.is_alive() and rec.room_waits >= 1
        stalled.gate.set()
        caller.join(GATE_S)
        rec.close()
        assert rec.room_waits >= 1
