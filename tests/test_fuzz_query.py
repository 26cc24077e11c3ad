"""Hostile `drvtape events` filter values (issue 4, part 6).

Every value either selects exactly what a plain Python filter over the session selects
(exit 0), or is refused with one line (exit 2); none changes the query (values are bound
parameters) and after all of them the database has every table and row it had.
"""

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_runner import run_cli
from drvtape.formats.jsonl import dump_session
from drvtape.schema.values import INT64_MAX, as_signed64
from drvtape.store import Store

SQLISH = [
    "1 OR 1=1", "'; DROP TABLE events; --", "0x4000) OR (1=1", "1; DELETE FROM sessions", "%", "_", "*",
    "' OR ''='", "1)) UNION SELECT * FROM meta --", "\\", "\"", "NULL", "0 -- ", "T0' OR '1'='1",
]
EDGE = [
    "", " ", "-", "+", "0x", "0", "-0", "-1", "1_000", str(2**63 - 1), str(2**63), str(2**64), str(10**30),
    "-" + str(2**64), "0x" + "F" * 17, "9" * 5000, "²", "٣", "1e5", "1.5", "inf", "nan", "T", "t99", "T-1",
    "DRV_USER+", "DRV_USER+-1", "DRV_USER+0x", "exit", "DRV_EXITSESSION", "1.5s", "99999999999999999999999s",
    "9999-12-31T23:59:59", "0001-01-01T00:00:00+05:00", "2024-05-01T12:00:00.000001Z", "\u202e", "\ufeff1",
    "\x00", "\ud800", "\U0001F600",
]
VALUES = st.one_of(
    st.sampled_from(SQLISH + EDGE), st.text(max_size=30),
    st.integers().map(str), st.integers(min_value=0).map(hex),
)
OPTIONS = ["--msg", "--kind", "--thread", "--since", "--until", "--result", "--from-seq", "--to-seq", "--limit"]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """Two sessions; the filtered one has calls, returns, a mark and an end on two threads."""
    path = tmp_path_factory.mktemp("query") / "q.db"
    started = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    from drvtape.schema.events import CallEvent, EndEvent, MarkEvent, ReturnEvent, SessionHeader
    import uuid
    with Store.open(str(path), create=True) as store:
        for n, sid in enumerate(("aaaa0001-0000-4000-8000-000000000001", "bbbb0002-0000-4000-8000-000000000002")):
            header = SessionHeader(id=uuid.UUID(sid), driver=f"d{n}", started_at=started + timedelta(minutes=n))
            events, seq = [], 0
            for i, (msg, result, thread) in enumerate([(1, 1, 7), (3, 0x1234, 2**64 - 16), (0x4001, -1, 7),
                                                      (0xB, 0, 2**64 - 16), (6, 2**63 - 1, 7)]):
                seq += 1
                events.append(CallEvent(seq=seq, ts_ns=seq * 1_000_000, thread=thread, msg=msg, driver_id=0,
                                        hdrvr=1, lparam1=0x7FF6_DEAD_BEEF, lparam2=-1))
                seq += 1
                events.append(ReturnEvent(seq=seq, ts_ns=seq * 1_000_000, thread=thread, call_seq=seq - 1, msg=msg,
                                          driver_id=0, hdrvr=1, result=result, duration_ns=5))
            events.append(MarkEvent(seq=seq + 1, ts_ns=(seq + 1) * 1_000_000, thread=7, text="'; DROP TABLE x; --"))
            events.append(EndEvent(seq=seq + 2, ts_ns=(seq + 2) * 1_000_000, thread=7, reason="closed"))
            store.import_sessions([(header, events)])
    return path


def _snapshot(path: Path) -> tuple:
    with sqlite3.connect(path) as conn:
        tables = sorted(name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        counts = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
    conn.close()
    with Store.open(str(path)) as store:
        export = "\n".join(line for s in store.sessions() for line in dump_session(s.header, store.events(s.pk)))
    return tables, counts, hashlib.sha256(export.encode()).hexdigest(), hashlib.sha256(path.read_bytes()).hexdigest()


def _events(db: Path) -> list[dict]:
    code, stdout, stderr = run_cli("--db", str(db), "events", "aaaa", "--format", "json")
    assert code == 0, stderr
    return json.loads(stdout)


def _assert_refused(code, stdout, stderr):
    assert code == 2, (code, stderr)
    assert stderr.startswith("drvtape: error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and stdout == ""


def test_hostile_filter_values_are_results_or_one_line_refusals_and_change_nothing(db):
    before = _snapshot(db)
    every = _events(db)

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), min_size=1, max_size=3),
           st.sampled_from(["json", "csv", "table"]))
    def one(options, fmt):
        args = [part for option, value in options for part in (option, value)]
        code, stdout, stderr = run_cli("--db", str(db), "events", "aaaa", "--format", fmt, *args)
        if code != 0:
            _assert_refused(code, stdout, stderr)
            return
        assert stderr == ""
        if fmt == "json":
            found = json.loads(stdout)
            assert all(ev in every for ev in found)  # a subset of this session: no other rows leak in

    one()
    assert _snapshot(db) == before


def _expected(every, *, msgs=(), threads=(), results=(), from_seq=None, to_seq=None, since=None, until=None,
              limit=None):
    out = [ev for ev in every
           if (not msgs or ev.get("msg") in msgs)
           and (not threads or ev["thread"] in threads)
           and (not results or (ev["kind"] == "return" and as_signed64(ev["result"]) in results))
           and (from_seq is None or ev["seq"] >= from_seq) and (to_seq is None or ev["seq"] <= to_seq)
           and (since is None or ev["ts_ns"] >= since) and (until is None or ev["ts_ns"] <= until)]
    return out if limit is None else out[:limit]


BIG = st.one_of(st.integers(-5, 30), st.integers(), st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**40]))


def test_numeric_filter_values_select_what_a_python_filter_selects(db):
    before = _snapshot(db)
    every = _events(db)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.dictionaries(st.sampled_from(["msg", "thread", "result", "from_seq", "to_seq", "since", "until",
                                            "limit"]), BIG, max_size=4), st.booleans())
    def one(chosen, as_hex):
        def text(v):
            return (("-" if v < 0 else "") + hex(abs(v))) if as_hex else str(v)

        args, refuse = [], False
        for name, value in chosen.items():
            option = "--" + name.replace("_", "-")
            if name in ("since", "until"):
                args += [option, str(value)]  # a bare number is integer ns (not hex, not signed)
                refuse |= value < 0
            else:
                args += [option, text(value)]
            if name in ("from_seq", "to_seq", "limit"):
                refuse |= value < 1
            elif name == "msg":
                refuse |= not 0 <= value <= 0xFFFFFFFF
            elif name == "thread":
                refuse |= not 0 <= value < 2**64
            elif name == "result":
                refuse |= not -(2**63) <= value < 2**64
        code, stdout, stderr = run_cli("--db", str(db), "events", "aaaa", "--format", "json", *args)
        if refuse:
            _assert_refused(code, stdout, stderr)
            return
        assert code == 0, stderr
        clamp = {k: min(v, INT64_MAX) for k, v in chosen.items()}
        expected = _expected(
            every, msgs=(chosen["msg"],) if "msg" in chosen else (),
            threads=(chosen["thread"],) if "thread" in chosen else (),
            results=(as_signed64(chosen["result"]),) if "result" in chosen else (),
            from_seq=clamp.get("from_seq"), to_seq=clamp.get("to_seq"), since=clamp.get("since"),
            until=clamp.get("until"), limit=clamp.get("limit"))
        assert json.loads(stdout) == expected

    one()
    assert _snapshot(db) == before


@pytest.mark.parametrize("option, value, seqs", [
    ("--from-seq", str(10**30), []),  # past 2**63-1: once an OverflowError from SQLite
    ("--to-seq", str(2**64), list(range(1, 13))),
    ("--limit", str(2**63), list(range(1, 13))),
    ("--since", str(10**30), []),
    ("--since", "9" * 5000, []),  # more digits than int() converts: once a ValueError
    ("--until", "99999999999999999999999s", list(range(1, 13))),
    ("--since", "9999-12-31T23:59:59", []),
    ("--since", "0001-01-01T00:00:00+05:00", list(range(1, 13))),
])
def test_values_beyond_64_bits_select_as_the_largest_do(db, option, value, seqs):
    code, stdout, stderr = run_cli("--db", str(db), "events", "aaaa", "--format", "json", option, value)
    assert code == 0, stderr
    assert [ev["seq"] for ev in json.loads(stdout)] == seqs


@pytest.mark.parametrize("value", ["²", "³", "¹²"])
def test_a_superscript_digit_is_not_a_time(db, value):
    _assert_refused(*run_cli("--db", str(db), "events", "aaaa", "--since", value))


def test_sessions_limit_beyond_64_bits(db):
    code, stdout, stderr = run_cli("--db", str(db), "sessions", "--json", "--limit", str(10**30))
    assert code == 0, stderr
    assert len(json.loads(stdout)) == 2
