"""Many threads through one hook, several processes into one SQLite file, reads during writes."""

import subprocess
import sys
import threading
import time

from drvtape.recorder import Recorder
from drvtape.schema.rows import Kind
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store

THREADS, PER_THREAD = 8, 50_000


def test_8_threads_x_50000_messages_all_recorded_in_each_threads_order(tmp_path):
    db = tmp_path / "c.db"
    with Recorder(db, driver="sim:reference") as rec:
        hooked = rec.wrap(ReferenceDriver())

        def work(n):
            for i in range(PER_THREAD):
                hooked(0, n, 0x4000 + n, i, n)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    with Store.open(db) as store:
        rows = store.rows(store.resolve("last").pk)
    assert len(rows) == 2 * THREADS * PER_THREAD + 1
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    expected_next = [0] * THREADS
    callers = {}
    for seq, kind, _ts, thread, msg, _d, hdrvr, l1, l2, *_rest in rows:
        if kind == Kind.CALL:
            assert l1 == expected_next[l2]  # each thread's messages in the order it sent them
            expected_next[l2] += 1
            callers[seq] = thread
    assert expected_next == [PER_THREAD] * THREADS
    assert len(set(callers.values())) == THREADS


CHILD = r"""
import sys
from drvtape.recorder import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
db, n, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Recorder(db, driver=f"process-{n}", batch_size=256) as rec:
    h = rec.wrap(ReferenceDriver())
    for i in range(calls):
        h(0, n, 0x4001, i, n)
print(rec.session_id)
"""


def test_four_processes_record_into_one_sqlite_file_at_once(tmp_path):
    db = tmp_path / "shared.db"
    Store.open(db, create=True).close()
    calls = 20_000
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(n), str(calls)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(4)]
    results = [c.communicate(timeout=300) for c in children]
    for child, (out, err) in zip(children, results):
        assert child.returncode == 0, err
        assert "locked" not in err
    with Store.open(db) as store:
        summaries = {s.header.driver: s for s in store.sessions()}
    assert sorted(summaries) == [f"process-{n}" for n in range(4)]
    for s in summaries.values():
        assert s.calls == calls and s.events == 2 * calls + 1 and s.end_reason.value == "closed"


def test_queries_while_recording_see_a_contiguous_prefix(tmp_path):
    db = tmp_path / "live.db"
    Store.open(db, create=True).close()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), "0", "60000"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    seen_sizes = []
    try:
        with Store.open(db) as store:
            while child.poll() is None:
                found = store.sessions()
                if found:
                    seqs = [r.seq for r in store.rows(found[0].pk)]
                    assert seqs == list(range(1, len(seqs) + 1))  # never a gap, never half a batch
                    seen_sizes.append(len(seqs))
                time.sleep(0.01)
    finally:
        out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert len(set(seen_sizes)) > 2, "the reader should have seen the session grow"
