"""The same tests on SQLite and PostgreSQL: every command works with --db URL. No mocks."""

import json
import subprocess
import sys


from drvtape.recorder import Recorder
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import Store

EXTREMES = (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1)


def drvtape(db, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", db, *args], capture_output=True, text=True,
                          input=stdin)


def test_exact_64_bit_values_and_the_chain_on_each_engine(db):
    with Store.open(db, create=True) as store:
        with Recorder(store, driver="extremes", durability="process") as rec:
            hooked = rec.wrap(lambda d, h, m, l1, l2: l1)
            for value in EXTREMES:
                hooked(value, value, 0x4000, value - (1 << 63), -1)
        pk = store.resolve("last").pk
        calls = [e for e in store.events(pk) if e.kind == "call"]
        returns = [e for e in store.events(pk) if e.kind == "return"]
        assert [(c.driver_id, c.hdrvr, c.lparam1) for c in calls] == [(v, v, v - (1 << 63)) for v in EXTREMES]
        assert [r.result for r in returns] == [v - (1 << 63) for v in EXTREMES]
        assert store.verify(pk) == []


def test_record_query_replay_and_transfer_through_the_cli_on_each_engine(db, tmp_path):
    from importlib import resources

    workload = resources.files("drvtape") / "workloads" / "disable-with-open.toml"
    rec = drvtape(db, "record", "--target", "sim:disable-with-open", "--workload", str(workload), "--json")
    assert rec.returncode == 0, rec.stderr
    session = json.loads(rec.stdout)["session"]
    listed = json.loads(drvtape(db, "sessions", "--with-msg", "DRV_EXITSESSION", "--json").stdout)
    assert [s["id"] for s in listed] == [session]
    exits = json.loads(drvtape(db, "events", session[:8], "--msg", "exitsession", "--format", "json").stdout)
    assert [e["msg_name"] for e in exits] == ["DRV_EXITSESSION"] * 4  # two instances: two calls, two returns
    replayed = drvtape(db, "replay", "last", "--target", "recorded", "--repeat", "3", "--json")
    assert replayed.returncode == 0 and json.loads(replayed.stdout)["reproduced_runs"] == 3
    assert drvtape(db, "verify", "--all").returncode == 0
    exported = drvtape(db, "export", "--all").stdout
    other = str(tmp_path / "copy.db")
    assert drvtape(other, "import", "-", stdin=exported).returncode == 0
    assert drvtape(other, "export", "--all").stdout == exported
    again = drvtape(db, "import", "-", stdin=exported)  # the same session twice: said, stored once (issue 15)
    assert again.returncode == 0 and "already there" in again.stdout
    assert len(json.loads(drvtape(db, "sessions", "--json").stdout)) == 1


def test_threads_and_summaries_on_each_engine(db):
    import threading

    with Store.open(db, create=True) as store:
        with Recorder(store, driver="threads", batch_size=64) as rec:
            hooked = rec.wrap(ReferenceDriver())
            together = threading.Barrier(4)  # alive at once, so the OS cannot reuse a finished thread's id

            def work(n):
                together.wait()
                for i in range(500):
                    hooked(0, n, 0x4001, i, n)

            workers = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        summary = store.sessions()[-1]
        # the four workers that sent messages; not the main thread that wrote the end event (issue 15)
        assert (summary.calls, summary.events, summary.threads) == (2000, 4001, 4)
        rows = store.rows(summary.pk)
        assert [r[0] for r in rows] == list(range(1, 4002))
