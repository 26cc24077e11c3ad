"""drvtape benchmarks: `python bench/run.py [--json] [--quick] [--events N]`.

Every figure is a ratio or a rate measured side by side in this one run (the thing
measured against a baseline doing the same work), with the sizes used and the target
from issue 2 beside it. Nothing here fails on a slow machine: it reports.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter, perf_counter_ns

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from demo_bench import bench_demo
from recorder_stream_bench import bench_sustained_hook
from hook_memory_bench import bench_hook_memory
from stream_bench import bench_streaming
from drvtape import __version__
from drvtape.recorder.hook import Recorder
from drvtape.recorder.workload import parse_workload, record_workload
from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema import messages as m
from drvtape.store import chain
from drvtape.store import tables as t
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import ROW_COLUMNS, Kind
from drvtape.runtime.sim.reference import ReferenceDriver
from drvtape.store import EventFilter, Store

DRV_USER_1 = m.DRV_USER + 1
CALL, RETURN = int(Kind.CALL), int(Kind.RETURN)  # plain ints, as the hook buffers them
THREAD_IDENT = 0x7F3A_5C2D_E700  # a realistic Linux pthread id
FULL = dict(hook_calls=200_000, append_rows=200_000, replay_sends=100_000, faithful_sends=100_000,
            events=1_000_000, dll_calls=100_000, memory_frames=2_000, stream_rate=100_000, stream_s=60)
QUICK = dict(hook_calls=20_000, append_rows=20_000, replay_sends=10_000, faithful_sends=4_000,
             events=50_000, dll_calls=10_000, memory_frames=200, stream_rate=100_000, stream_s=2)
EVENTS_PER_SESSION = 1_000
QUERY_REPS = 50
BATCH = 1_000  # calls per timed batch

progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


# ---- shared helpers -------------------------------------------------------------------------

@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a long step; yields advance(n)."""
    task = progress.add_task(description, total=total)
    try:
        yield lambda n=1: progress.advance(task, n)
    finally:
        progress.remove_task(task)


def batch_ns(fn: Callable, args: tuple, n: int = BATCH) -> float:
    """ns per call of fn(*args), over one batch of n calls (the loop's own cost included)."""
    start = perf_counter_ns()
    for _ in itertools.repeat(None, n):
        fn(*args)
    return (perf_counter_ns() - start) / n


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = perf_counter()
    result = fn(*args, **kwargs)
    return perf_counter() - start, result


@contextmanager
def gc_clock() -> Iterator[dict]:
    """Seconds the cyclic garbage collector ran inside the block, in the yielded dict's "s"."""
    spent, started = {"s": 0.0}, [0.0]

    def on_gc(phase: str, _info: dict) -> None:
        if phase == "start":
            started[0] = perf_counter()
        else:
            spent["s"] += perf_counter() - started[0]

    gc.callbacks.append(on_gc)
    try:
        yield spent
    finally:
        gc.callbacks.remove(on_gc)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def open_instance(proc: Callable) -> tuple[int, int, int]:
    """DRV_LOAD, DRV_ENABLE, DRV_OPEN through proc: (driver_id, hdrvr, calls made)."""
    hdrvr = 0x7E10
    proc(0, hdrvr, m.DRV_LOAD, 0, 0)
    proc(0, hdrvr, m.DRV_ENABLE, 0, 0)
    return proc(0, hdrvr, m.DRV_OPEN, 0, 0), hdrvr, 3


def new_header(driver: str = "bench") -> SessionHeader:
    return SessionHeader(id=uuid.uuid4(), driver=driver, target=driver, machine=platform.node(), os=platform.platform(),
                         process="bench", pid=os.getpid(), recorder_version=__version__, started_at=utc_now(),
                         clock="perf_counter_ns", source="bench")


def call_return_rows(first_seq: int, pairs: int, msg_at: Callable[[int], int] = lambda i: DRV_USER_1) -> list[tuple]:
    """Rows as the hook writes them (ROW_COLUMNS order): a call and its return per message."""
    rows = []
    for i in range(pairs):
        seq, ts, msg = first_seq + 2 * i, 1_000 * i, msg_at(i)
        rows.append((seq, CALL, ts, THREAD_IDENT, msg, 0x1001, 0x7E10, i, -1, None, None, 0, None, None, None))
        rows.append((seq + 1, RETURN, ts + 400, THREAD_IDENT, msg, 0x1001, 0x7E10, None, None, 0, seq, None,
                     400, None, None))
    return rows


# ---- 1. hook --------------------------------------------------------------------------------

def bench_hook(tmp: Path, calls: int) -> dict:
    """Median ns per DRV_USER+1 call to an open ReferenceDriver instance: bare, then hooked."""
    batches = max(1, calls // BATCH)
    bare = ReferenceDriver()
    driver_id, hdrvr, _ = open_instance(bare)
    args = (driver_id, hdrvr, DRV_USER_1, 0, 0)
    with step("hook: bare calls", batches) as advance:
        bare_ns = []
        for _ in range(batches):
            bare_ns.append(batch_ns(bare, args))
            advance()

    db = tmp / "hook.db"
    recorder = Recorder(str(db), driver="sim:reference", target="sim:reference")
    hooked = recorder.wrap(ReferenceDriver())
    driver_id, hdrvr, opening = open_instance(hooked)
    args = (driver_id, hdrvr, DRV_USER_1, 0, 0)
    with step("hook: hooked calls", batches) as advance, gc_clock() as gc_s:
        hooked_ns = []
        for _ in range(batches):
            hooked_ns.append(batch_ns(hooked, args))
            advance()
    with Store.open(str(db)) as store:  # a second connection: what the writer thread has committed so far
        before_close = store.event_count()
    close_s, _ = timed(recorder.close)

    with Store.open(str(db)) as store:
        stored = store.event_count()
    expected = 2 * (opening + batches * BATCH) + 1  # a call and a return per message, then `end`
    bare_med, hooked_med = statistics.median(bare_ns), statistics.median(hooked_ns)
    return {
        "what": "ns per DriverProc call (DRV_USER+1 to an open sim:reference instance), median of "
                "batches (a batch's median hides stalls: hook_sustained times every call); "
                f"{batches} batches of {BATCH}; recorder writing to a SQLite file",
        "calls": batches * BATCH,
        "bare_median_ns": round(bare_med, 1),
        "hooked_median_ns": round(hooked_med, 1),
        "hooked_mean_ns": round(statistics.fmean(hooked_ns), 1),
        "overhead_ns": round(hooked_med - bare_med, 1),
        "ratio": round(hooked_med / bare_med, 2),
        "gc_share_of_hooked": round(gc_s["s"] * 1e9 / sum(hooked_ns) / BATCH, 3),
        "events_stored_before_close": before_close,
        "close_ms": round(close_s * 1e3, 1),
        "events_expected": expected,
        "events_stored": stored,
        "all_events_stored": stored == expected,
        "target_hooked_median_ns": 3_000,
        "meets_target": hooked_med < 3_000 and stored == expected,
    }


def bench_durability(tmp: Path, calls: int) -> dict:
    """Median ns per hooked call in each durability mode (the bare call is the baseline)."""
    bare = ReferenceDriver()
    driver_id, hdrvr, _ = open_instance(bare)
    bare_med = statistics.median(batch_ns(bare, (driver_id, hdrvr, DRV_USER_1, 0, 0), 100) for _ in range(20))
    modes = {}
    for mode, n in (("batched", calls), ("process", calls // 20), ("machine", calls // 200)):
        batch = max(10, min(BATCH, n // 10))
        recorder = Recorder(str(tmp / f"durability-{mode}.db"), driver="sim:reference", durability=mode)
        hooked = recorder.wrap(ReferenceDriver())
        driver_id, hdrvr, _ = open_instance(hooked)
        with step(f"durability: {mode}", max(1, n // batch)) as advance:
            per_call = []
            for _ in range(max(1, n // batch)):
                per_call.append(batch_ns(hooked, (driver_id, hdrvr, DRV_USER_1, 0, 0), batch))
                advance()
        recorder.close()
        median = statistics.median(per_call)
        modes[mode] = {"calls": max(1, n // batch) * batch, "hooked_median_ns": round(median, 1),
                       "overhead_ns": round(median - bare_med, 1), "ratio_to_bare": round(median / bare_med, 1)}
    return {
        "what": "ns per hooked DriverProc call in each durability mode (two events per call), "
                "median over batches; SQLite WAL file on this machine's disk",
        "bare_median_ns": round(bare_med, 1),
        **modes,
    }


# ---- 2. appends -----------------------------------------------------------------------------

def raw_baseline(path: Path) -> sqlite3.Connection:
    """A second file with drvtape's own DDL (same tables and indexes), opened with raw sqlite3
    and the same settings the store uses (WAL, synchronous NORMAL, foreign keys on)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    t.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def bench_appends(tmp: Path, count: int, repeats: int = 3, batch: int = 8_192) -> dict:
    """Store.append_rows against raw sqlite3 executemany, the same rows in the same batches
    (the recorder's batch size, one transaction each); alternating order, best of `repeats`."""
    rows = call_return_rows(1, count // 2)
    batches = [rows[i:i + batch] for i in range(0, len(rows), batch)]
    store = Store.open(str(tmp / "appends-store.db"), create=True)
    raw = raw_baseline(tmp / "appends-raw.db")
    insert = f"INSERT INTO events (session_pk, {', '.join(ROW_COLUMNS)}, chain) VALUES ({', '.join('?' * (len(ROW_COLUMNS) + 2))})"

    def run_store() -> float:
        pk = store.begin_session(new_header())
        start = perf_counter()
        for b in batches:
            store.append_rows(pk, b)
        return perf_counter() - start

    def run_raw(pk: int) -> float:
        raw.execute("INSERT INTO sessions (pk, uuid, driver, machine, os, process, recorder_version, started_us, "
                    "clock, source) VALUES (?, ?, 'bench', '', '', '', '', 0, '', 'bench')", (pk, str(uuid.uuid4())))
        # the very rows the store writes (session_pk and chain link included), prepared untimed
        links = iter(chain.links(chain.genesis(uuid.uuid4()), rows))
        with_pk = [[(pk, *r, next(links)) for r in b] for b in batches]
        start = perf_counter()
        for b in with_pk:
            raw.execute("BEGIN")
            raw.executemany(insert, b)
            raw.execute("COMMIT")
        return perf_counter() - start

    store_s, raw_s = [], []
    with step("appends: store vs raw sqlite3", 2 * repeats) as advance:
        for i in range(repeats):
            for which in (("store", "raw") if i % 2 == 0 else ("raw", "store")):
                (store_s.append(run_store()) if which == "store" else raw_s.append(run_raw(i + 1)))
                advance()
    with Store.open(str(tmp / "appends-store.db")) as check:
        stored = check.event_count()
    store.close()
    raw.close()
    chain_s, _ = timed(lambda: list(chain.links(chain.genesis(uuid.uuid4()), rows)))
    store_rate, raw_rate = rate(len(rows), min(store_s)), rate(len(rows), min(raw_s))
    return {
        "what": f"rows/s appending {len(rows)} call/return rows in batches of {batch} (one transaction each), "
                f"best of {repeats}, order alternated; raw = sqlite3 executemany of the same rows "
                "(chain links precomputed) into the same DDL",
        "rows": len(rows),
        "batch_rows": batch,
        "store_rows_per_s": store_rate,
        "raw_sqlite3_rows_per_s": raw_rate,
        "ratio": round(store_rate / raw_rate, 3),
        "chain_ns_per_row": round(chain_s * 1e9 / len(rows), 1),  # part of the store's time, not raw's
        "rows_stored_check": stored == repeats * len(rows),
        "target_ratio": 0.7,
        "meets_target": store_rate / raw_rate >= 0.7,
    }


# ---- 3. replay ------------------------------------------------------------------------------

def record_alternating(store: Store, sends: int, threads: int) -> str:
    """Record a workload against sim:reference: one instance per thread, `sends` DRV_USER+1
    sends alternating between them, then the closes. Returns the session id."""
    names = [f"t{k}" for k in range(threads)]
    steps = [f'[[steps]]\naction = "open"\ninstance = "{n}"\nthread = "{n}"\n' for n in names]
    steps += [f'[[steps]]\naction = "send"\ninstance = "{names[i % threads]}"\nmsg = "DRV_USER+1"\n'
              f'lparam1 = {i}\nthread = "{names[i % threads]}"\n' for i in range(sends)]
    steps += [f'[[steps]]\naction = "close"\ninstance = "{n}"\nthread = "{n}"\n' for n in names]
    workload = parse_workload("\n".join(steps), "bench")
    return record_workload(workload, parse_target("sim:reference"), store).session_id


def baton_handoffs(n: int) -> float:
    """Seconds for n hand-overs between two threads, each waking the other through its own
    lock and then blocking on its own: the least a strictly alternating two-thread replay can
    cost in this process."""
    mine, theirs = threading.Lock(), threading.Lock()
    mine.acquire()
    theirs.acquire()

    def other() -> None:
        for _ in range(n // 2):
            theirs.acquire()
            mine.release()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    start = perf_counter()
    for _ in range(n // 2):
        theirs.release()
        mine.acquire()
    took = perf_counter() - start
    thread.join()
    return took


def bench_replay(tmp: Path, sends: int, faithful_sends: int, rounds: int = 3) -> dict:
    """replay_recording against sim:reference (serial; thread-faithful on a 2-thread session)
    in messages/s, beside a bare loop making the same calls to a fresh ReferenceDriver and, for
    the 2-thread session, a two-thread baton making as many hand-overs; best of `rounds`, the
    replay and its baselines alternated (the machine is shared: the best is the least disturbed)."""
    load_at_start = round(os.getloadavg()[0], 2)  # the machine is shared: how busy it was says how to read these
    target = parse_target("sim:reference")
    out = {"what": "messages/s replaying a recorded session against sim:reference (load excluded), best of "
                   f"{rounds}; bare = a loop calling a fresh ReferenceDriver with the same calls; baton = two "
                   "threads handing over through a lock each, once per message"}
    with Store.open(str(tmp / "replay.db"), create=True) as store:
        for mode, n, threads in (("serial", sends, 1), ("faithful", faithful_sends, 2)):
            with step(f"replay: record {n} sends on {threads} thread(s)"):
                recording = load_recording(store, record_alternating(store, n, threads))
            calls = [(c.driver_id, c.hdrvr, c.msg, c.lparam1, c.lparam2) for c in recording.calls]
            replay_s, bare_s, baton_s, gc_share = [], [], [], []
            with step(f"replay: {mode}, {len(calls)} messages", rounds) as advance:
                for _ in range(rounds):
                    with gc_clock() as gc_s:
                        seconds, report = timed(replay_recording, recording, target, threads=mode)
                    replay_s.append(seconds)
                    gc_share.append(gc_s["s"] / seconds)
                    bare = ReferenceDriver()
                    bare_s.append(timed(lambda: [bare(*c) for c in calls])[0])
                    if threads > 1:
                        baton_s.append(baton_handoffs(len(calls)))
                    advance()
            out[mode] = {
                "messages": len(calls),
                "recorded_threads": recording.threads,
                "outcome": report.runs[0].kind,
                "reproduced": report.reproduced,
                "replay_messages_per_s": rate(len(calls), min(replay_s)),
                "bare_messages_per_s": rate(len(calls), min(bare_s)),
                "replay_over_bare": round(min(bare_s) / min(replay_s), 4),
                "gc_share_of_replay": round(min(gc_share), 3),
            }
            if baton_s:
                out[mode]["baton_handoffs_per_s"] = rate(len(calls), min(baton_s))
                out[mode]["replay_over_baton"] = round(min(baton_s) / min(replay_s), 3)
    out["load_average_1m"] = [load_at_start, round(os.getloadavg()[0], 2)]  # at the start and end of this figure
    out["target_serial_messages_per_s"] = 200_000
    out["target_faithful_messages_per_s"] = 100_000
    out["meets_target"] = out["serial"]["replay_messages_per_s"] >= 200_000 and out["serial"]["reproduced"]
    out["faithful_meets_target"] = (out["faithful"]["replay_messages_per_s"] >= 100_000
                                    and out["faithful"]["reproduced"])
    return out


# ---- 4. query -------------------------------------------------------------------------------

def build_query_db(path: Path, events: int) -> tuple[Store, list[int]]:
    """`events` events in sessions of EVENTS_PER_SESSION (LOAD, ENABLE, OPEN, then DRV_USER+1); every
    fourth session gets a DRV_EXITSESSION. Returns the store and the pks of those sessions."""
    store = Store.open(str(path), create=True)
    sessions = max(1, events // EVENTS_PER_SESSION)
    pairs = EVENTS_PER_SESSION // 2
    opening = (m.DRV_LOAD, m.DRV_ENABLE, m.DRV_OPEN)

    def session_rows(exit_at: int | None) -> list[tuple]:
        return call_return_rows(1, pairs, lambda i: opening[i] if i < len(opening)
                                else m.DRV_EXITSESSION if i == exit_at else DRV_USER_1)

    plain, with_exit = session_rows(None), session_rows(pairs - 4)
    exiting = []
    with step(f"query: build {sessions * pairs * 2:,} events", sessions) as advance:
        for k in range(sessions):
            pk = store.begin_session(new_header("sim:bench"))
            store.append_rows(pk, with_exit if k % 4 == 0 else plain)
            if k % 4 == 0:
                exiting.append(pk)
            advance()
    return store, exiting


SCHEMA_5_INDEXES = ("CREATE INDEX ix_events_session_msg ON events (session_pk, msg, seq)",
                    "CREATE INDEX ix_events_msg_session ON events (msg, kind, session_pk)",
                    "CREATE INDEX ix_events_kind_session ON events (kind, session_pk)")


def file_bytes_per_event(path: Path, events: int) -> tuple[float, float]:
    """Bytes per event of the SQLite file, and of a copy with the three whole indexes events
    had before schema version 6 instead of its two partial ones (the baseline)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.with_name("query-schema-5.db")
    shutil.copyfile(path, before)
    with sqlite3.connect(before) as conn:
        conn.execute("DROP INDEX ix_events_calls_msg")
        conn.execute("DROP INDEX ix_events_endings")
        for ddl in SCHEMA_5_INDEXES:
            conn.execute(ddl)
        conn.commit()
        conn.execute("VACUUM")
    per_event = path.stat().st_size / events, before.stat().st_size / events
    before.unlink()
    return per_event


def bench_query(tmp: Path, events: int) -> dict:
    """ms to fetch one session's DRV_EXITSESSION events (median over QUERY_REPS sessions), and
    Store.sessions_with(DRV_EXITSESSION) across the whole database, once."""
    build_s, (store, exiting) = timed(build_query_db, tmp / "query.db", events)
    with store:
        total = store.event_count()
        flt = EventFilter(msgs=(m.DRV_EXITSESSION,))
        store.rows(exiting[0], flt)  # warm: first connection, statement compiled once
        times, found = [], set()
        for i in range(QUERY_REPS):
            seconds, rows = timed(store.rows, exiting[(i * 7919) % len(exiting)], flt)
            times.append(seconds * 1e3)
            found.add(len(rows))
        cross_s, with_exit = timed(store.sessions_with, m.DRV_EXITSESSION)
    bytes_per_event, before_schema_6 = file_bytes_per_event(tmp / "query.db", total)
    median_ms = statistics.median(times)
    return {
        "what": "ms to fetch one session's DRV_EXITSESSION events, median of "
                f"{QUERY_REPS} fetches on different sessions",
        "events_in_db": total,
        "sessions_in_db": max(1, events // EVENTS_PER_SESSION),
        "build_s": round(build_s, 2),
        "build_events_per_s": rate(total, build_s),
        "rows_per_fetch": sorted(found),
        "session_exitsession_median_ms": round(median_ms, 3),
        "session_exitsession_max_ms": round(max(times), 3),
        "sessions_with_exitsession_ms": round(cross_s * 1e3, 2),
        "sessions_with_exitsession_found": len(with_exit),
        "bytes_per_event": round(bytes_per_event, 1),
        "bytes_per_event_before_schema_6": round(before_schema_6, 1),
        "target_bytes_per_event": 90,
        "target_ms": 10,
        "meets_target": median_ms < 10 and found == {2} and len(with_exit) == len(exiting),
    }


# ---- 5. dll ---------------------------------------------------------------------------------

def bench_dll(calls: int) -> dict:
    """bench/dllhost_bench.py: replay through drvhost (under Wine off Windows), serial and on 4 threads."""
    out: dict = {"target_messages_per_s": 1_000_000}
    try:
        import dllhost_bench as dll_bench

        with step(f"dll: replay {calls} messages through drvhost"):
            out.update(dll_bench.bench_dll_replay(calls))
        out["meets_target"] = out["messages_per_s"] >= 1_000_000
    except Exception as exc:  # noqa: BLE001 - another engineer's part: report, don't crash
        out["error"] = f"{type(exc).__name__}: {exc}"
    tap = getattr(sys.modules.get("dllhost_bench"), "bench_tap_overhead", None)
    if tap is None:
        out["tap_overhead"] = {"error": "dllhost_bench has no bench_tap_overhead"}
    else:
        try:
            out["tap_overhead"] = tap(calls)
        except Exception as exc:  # noqa: BLE001
            out["tap_overhead"] = {"error": f"{type(exc).__name__}: {exc}"}
        try:
            out["tap_run"] = sys.modules["dllhost_bench"].bench_tap_run()
        except Exception as exc:  # noqa: BLE001
            out["tap_run"] = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        import memory_bench

        with step("dll: replay 500 frame decodes with memory"):
            out["replay_with_memory"] = memory_bench.bench_memory_replay(500)
    except Exception as exc:  # noqa: BLE001
        out["replay_with_memory"] = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        import tap_memory_bench

        with step(f"dll: the tap with memory to capture ({calls} messages without, decompresses, converts)"):
            out["tap_memory"] = tap_memory_bench.bench_tap_memory(calls)
    except Exception as exc:  # noqa: BLE001
        out["tap_memory"] = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        import hook_bench

        with step(f"dll: the hook beside the tap ({calls} messages through winmm)"):
            out["hook_run"] = hook_bench.bench_hook(calls)
    except Exception as exc:  # noqa: BLE001
        out["hook_run"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


# ---- main -----------------------------------------------------------------------------------

def run(quick: bool, events: int | None) -> dict:
    sizes = dict(QUICK if quick else FULL)
    if events is not None:
        sizes["events"] = events
    figures: dict = {
        "bench": "drvtape",
        "drvtape_version": __version__,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "quick": quick,
        "sizes": sizes,
    }
    jobs = {
        "hook": lambda tmp: bench_hook(tmp, sizes["hook_calls"]),
        "hook_sustained": lambda tmp: bench_sustained_hook(tmp, sizes["stream_rate"], sizes["stream_s"]),
        "hook_memory": lambda tmp: bench_hook_memory(tmp, sizes["memory_frames"]),
        "durability": lambda tmp: bench_durability(tmp, sizes["hook_calls"]),
        "appends": lambda tmp: bench_appends(tmp, sizes["append_rows"]),
        "replay": lambda tmp: bench_replay(tmp, sizes["replay_sends"], sizes["faithful_sends"]),
        "query": lambda tmp: bench_query(tmp, sizes["events"]),
        "streaming": lambda tmp: bench_streaming(tmp, sizes["events"]),
        "dll": lambda tmp: bench_dll(sizes["dll_calls"]),
        "demo": lambda tmp: bench_demo(),
    }
    started = time.perf_counter()
    with progress, tempfile.TemporaryDirectory(prefix="drvtape-bench-") as tmp:
        for name, job in jobs.items():
            gc.collect()  # no garbage of an earlier figure is collected on this one's clock
            try:
                figures[name] = job(Path(tmp))
            except Exception as exc:  # noqa: BLE001 - report the figure as missing, keep the others
                figures[name] = {"error": f"{type(exc).__name__}: {exc}",
                                 "traceback": traceback.format_exc(limit=-3)}
    figures["total_s"] = round(time.perf_counter() - started, 1)
    return figures


def print_table(figures: dict) -> None:
    from rich.table import Table

    console = Console()
    console.print(f"drvtape {figures['drvtape_version']} bench on {figures['machine']} ({figures['timestamp']}), "
                  f"Python {figures['python']}, SQLite {figures['sqlite']}, total {figures['total_s']} s")
    table = Table("figure", "measure", "value")
    for name, fig in figures.items():
        if not isinstance(fig, dict) or name == "sizes":
            continue
        for key, value in _flatten(fig):
            table.add_row(name, key, f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool)
                          else str(value))
        table.add_section()
    console.print(table)


def _flatten(d: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in d.items():
        if key in ("what", "traceback"):
            continue
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test, under 30 s)")
    parser.add_argument("--events", "--scale", type=int, default=None,
                        help=f"events in the query database (default {FULL['events']:,}; {QUICK['events']:,} "
                             "with --quick; --scale 10000000 for the 10M run, by hand: not in CI)")
    args = parser.parse_args(argv)
    if args.events is not None and args.events < EVENTS_PER_SESSION:
        parser.error(f"--events must be at least {EVENTS_PER_SESSION}")
    figures = run(args.quick, args.events)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
