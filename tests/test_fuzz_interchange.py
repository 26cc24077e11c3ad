"""Hostile JSONL for `drvtape import` (issue 4, part 6): property-based, bounded.

parse_jsonl either accepts the lines, and then export -> import gives exactly the same
sessions (in memory and through a database), or raises DrvtapeError naming source:line;
never any other exception. Through the command line: exit 2, one line on stderr, no
traceback, and the database byte-identical (or still absent).
"""

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_runner import run_cli
from drvtape.cli.import_export import read_sessions as _read_sessions
from drvtape.errors import DrvtapeError
from drvtape.formats.jsonl import dump_session
from drvtape.formats.jsonl_reader import parse_jsonl
from drvtape.store import Store

SOURCE = "fuzz.jsonl"
ERROR = re.compile(r"^fuzz\.jsonl(:\d+)?: \S")
SID = "aaaa0001-0000-4000-8000-000000000001"
SID2 = "aaaa0002-0000-4000-8000-000000000002"

VALID = [
    {"type": "session", "format": "drvtape-jsonl", "version": 1, "id": SID, "driver": "sim:reference",
     "target": "sim:reference", "machine": "box", "os": "Linux", "process": "p", "pid": 7,
     "recorder_version": "0.1", "started_at": "2024-05-01T12:00:00Z", "clock": "monotonic_ns", "source": "hook"},
    {"kind": "call", "seq": 1, "ts_ns": 0, "thread": 0xFFFF_FFFF_FFFF_FFF0, "msg": 3, "driver_id": 0,
     "hdrvr": 0xFFFF_8000_0000_1000, "lparam1": 0x7FF6_DEAD_BEEF, "lparam2": -(1 << 63), "depth": 0,
     "payload": {"lparam1": {"type": "wstr", "text": "section\u00e9"},
                 "lparam2": {"type": "ICOPEN", "dwSize": 56, "fccType": 1668703606, "fccHandler": 1701606253}}},
    {"kind": "return", "seq": 2, "ts_ns": 10, "thread": 0xFFFF_FFFF_FFFF_FFF0, "call_seq": 1, "msg": 3,
     "driver_id": 0, "hdrvr": 0xFFFF_8000_0000_1000, "result": 0x1234, "duration_ns": 10},
    {"kind": "mark", "seq": 3, "ts_ns": 11, "thread": 1, "text": "logoff"},
    {"kind": "call", "seq": 4, "ts_ns": 12, "thread": 1, "msg": 6, "driver_id": 0x1234, "hdrvr": 1,
     "lparam1": 0, "lparam2": 0, "payload": {"lparam2": {"type": "bytes", "hex": "00ff"}}},
    {"kind": "fault", "seq": 5, "ts_ns": 13, "thread": 1, "call_seq": 4, "msg": 6, "driver_id": 0x1234,
     "hdrvr": 1, "code": 0xC0000005, "module": "sim.dll", "offset": 0x4F2},
    {"kind": "end", "seq": 6, "ts_ns": 14, "thread": 1, "reason": "crash", "call_seq": 4, "detail": "boom"},
    {"type": "session", "format": "drvtape-jsonl", "version": 1, "id": SID2, "driver": "d",
     "started_at": "2024-05-01T13:00:00+02:00"},
    {"kind": "call", "seq": 1, "ts_ns": 5, "thread": 9, "msg": 0x4001, "driver_id": 0, "hdrvr": 0,
     "lparam1": -1, "lparam2": (1 << 63) - 1},
]
VALID_LINES = [json.dumps(obj) for obj in VALID]

HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**40, -1, 0, 1.5, float("1e300"), "1", "0x10", "",
                     "\x00", "\ud800", "a" * 5000, [], {}, {"type": "wstr"}, [[[[1]]]]]),
    st.floats(allow_nan=False), st.text(max_size=50), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_lines(lines: list[str]) -> None:
    """The property: accepted and round-trips exactly, or DrvtapeError at source:line."""
    try:
        sessions = parse_jsonl(lines, SOURCE)
    except DrvtapeError as exc:
        assert ERROR.match(str(exc)), str(exc)
        assert "\n" not in str(exc)
        return
    again = [line for header, events in sessions for line in dump_session(header, events)]
    assert parse_jsonl(again, "again.jsonl") == sessions
    # And through a database: what parsed can be stored and read back unchanged.
    with Store.open("sqlite://", create=True) as store:
        store.import_sessions(sessions)
        stored = {s.header.id: s for s in store.sessions()}
        assert len(stored) == len(sessions)
        for header, events in sessions:
            summary = stored[header.id]
            assert summary.header == header
            assert store.events(summary.pk) == events
            assert list(dump_session(summary.header, store.events(summary.pk))) == \
                list(dump_session(header, events))


def test_the_valid_sample_is_accepted_and_round_trips():
    assert len(parse_jsonl(VALID_LINES, SOURCE)) == 2
    check_lines(VALID_LINES)


@BOUNDED
@given(st.lists(st.text(max_size=200), max_size=8))
def test_arbitrary_lines(lines):
    check_lines(lines)


@BOUNDED
@given(st.lists(st.binary(max_size=200), max_size=6))
def test_arbitrary_bytes_through_the_import_reader(chunks):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SOURCE
        path.write_bytes(b"\n".join(chunks))
        try:
            _read_sessions(str(path))
        except DrvtapeError as exc:
            assert str(exc).startswith(f"{path}"), str(exc)


def as_bytes(text: str) -> bytes:
    """The bytes a file holds for this text: a byte flip's surrogateescape characters become the
    raw bytes again, and a lone surrogate (a field set to one) its invalid UTF-8 form."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw) -> list[str]:
    lines = list(VALID_LINES)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "swap", "flip", "field", "drop_field", "wrap", "long", "nul"]))
        if op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip" and lines[i]:
            raw = bytearray(as_bytes(lines[i]))
            at = draw(st.integers(0, len(raw) - 1))
            raw[at] ^= 1 << draw(st.integers(0, 7))
            lines[i] = raw.decode("utf-8", errors="surrogateescape")
        elif op in ("field", "drop_field", "nul", "long"):
            try:
                obj = json.loads(lines[i])
            except (ValueError, RecursionError):  # an earlier "wrap" may have nested it deeply
                continue
            if not isinstance(obj, dict) or not obj:
                continue
            key = draw(st.sampled_from(sorted(obj)))
            if op == "field":
                obj[key] = draw(HOSTILE_VALUES)
            elif op == "drop_field":
                del obj[key]
            elif op == "nul":
                obj[key] = f"{obj[key]}\x00"
            else:
                obj[key] = "x" * draw(st.sampled_from([4096, 4097, 40_000, 70_000]))
            lines[i] = json.dumps(obj, ensure_ascii=draw(st.booleans()))
        elif op == "wrap":
            depth = draw(st.sampled_from([1, 50, 5000, 200_000]))
            lines[i] = "[" * depth + lines[i] + "]" * depth
    return lines


def as_file_bytes(lines: list[str]) -> bytes:
    return as_bytes("\n".join(lines) + "\n")


@BOUNDED
@given(mutated())
def test_mutations_of_a_valid_export(lines):
    check_lines(lines)


@pytest.mark.parametrize("line", [
    "[" * 200_000 + "]" * 200_000,  # deep nesting: a RecursionError inside json
    '{"kind": "mark", "seq": 1, "ts_ns": 0, "thread": 0, "text": ' + "[" * 200_000 + "]" * 200_000 + "}",
    '{"kind": "mark", "seq": 1, "ts_ns": ' + "9" * 5000 + ', "thread": 0, "text": "a"}',  # > int digit limit
    '{"kind": "mark", "seq": 1, "ts_ns": ' + str(2**70) + ', "thread": 0, "text": "a"}',  # > SQLite INTEGER
    '{"kind": "mark", "seq": 1, "ts_ns": "' + str(2**64) + '", "thread": 0, "text": "a"}',
    '{"kind": "call", "seq": 1, "ts_ns": 0, "thread": 0, "msg": 1, "driver_id": 0, "hdrvr": 0, "lparam1": 0, '
    '"lparam2": 0, "depth": 18446744073709551616}',
    '{"kind": "mark", "seq": 1, "ts_ns": 0, "thread": 0, "text": "\\udc80"}',  # a lone surrogate
    '{"kind": "mark", "seq": 1, "ts_ns": 0, "thread": 0, "text": "' + "a" * 10_000_000 + '"}',  # a 10 MB line
], ids=["deep-array", "deep-field", "5000-digits", "ts-2**70", "ts-string-2**64", "depth-2**64", "surrogate",
        "10MB-line"])
def test_lines_that_once_escaped_as_other_exceptions(line):
    with pytest.raises(DrvtapeError, match=r"^fuzz\.jsonl:2: "):
        parse_jsonl([VALID_LINES[0], line], SOURCE)


@pytest.mark.parametrize("header_fields, problem", [
    ({"pid": 2**80}, "'pid'"),
    ({"machine": "\udfff"}, "surrogate"),
    ({"started_at": "9999-12-31T23:59:59-05:00"}, "'started_at'"),  # past year 9999 in UTC
    ({"started_at": "0001-01-01T00:00:00+05:00"}, "'started_at'"),  # before year 1 in UTC
])
def test_headers_a_database_cannot_hold_are_refused_at_parse(header_fields, problem):
    with pytest.raises(DrvtapeError, match=r"^fuzz\.jsonl:1: ") as info:
        parse_jsonl([json.dumps({**VALID[0], **header_fields})], SOURCE)
    assert problem in str(info.value)


def test_nul_bytes_and_64_bit_extremes_round_trip_through_a_database():
    header = {**VALID[0], "machine": "a\x00b", "process": "\x00"}
    mark = {"kind": "mark", "seq": 1, "ts_ns": 2**63 - 1, "thread": 2**64 - 1, "text": "x\x00y"}
    check_lines([json.dumps(header), json.dumps(mark)])


# ---- through the command line ---------------------------------------------------------------


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _assert_refused(code: int, stdout: str, stderr: str) -> None:
    assert code == 2, (code, stderr[-2000:])
    assert stderr.startswith("drvtape: error: ") and stderr.count("\n") == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    assert stdout == ""


@pytest.fixture(scope="module")
def existing_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("import") / "existing.db"
    src = db.with_suffix(".jsonl")
    src.write_text("\n".join(VALID_LINES) + "\n", encoding="utf-8")
    code, _, stderr = run_cli("--db", str(db), "import", str(src))
    assert code == 0, stderr
    return db


def _bad_files() -> list[tuple[str, bytes]]:
    good = "\n".join(VALID_LINES).encode()
    return [
        ("deep", VALID_LINES[0].encode() + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
        ("not-utf8", good + b"\n\xff\xfe{\n"),
        ("huge-int", VALID_LINES[0].encode() + b'\n{"kind":"mark","seq":1,"ts_ns":' + str(2**70).encode()
         + b',"thread":0,"text":"a"}\n'),
        ("surrogate", VALID_LINES[0].replace('"box"', '"\\udfff"').encode() + b"\n"),
        ("ten-mb-line", VALID_LINES[0].encode() + b'\n{"kind":"mark","seq":1,"ts_ns":0,"thread":0,"text":"'
         + b"a" * 10_000_000 + b'"}\n'),
        ("second-session-bad", good + b"\n" + VALID_LINES[0].replace(SID, "aaaa0009-0000-4000-8000-000000000009")
         .encode() + b'\n{"kind":"mark","seq":2,"ts_ns":0,"thread":0,"text":"gap"}\n'),
    ]


@pytest.mark.parametrize("name, content", _bad_files(), ids=[n for n, _ in _bad_files()])
def test_cli_import_subprocess_refuses_and_writes_nothing(tmp_path, name, content):
    src = tmp_path / f"{name}.jsonl"
    src.write_bytes(content)
    fresh = tmp_path / "fresh.db"
    run = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(fresh), "import", str(src)],
                         capture_output=True, text=True, errors="replace", cwd=tmp_path)
    _assert_refused(run.returncode, run.stdout, run.stderr)
    assert str(src) in run.stderr
    assert not fresh.exists() and not list(tmp_path.glob("fresh.db*"))


@pytest.mark.parametrize("name, content", _bad_files(), ids=[n for n, _ in _bad_files()])
def test_cli_import_in_process_leaves_an_existing_database_byte_identical(tmp_path, existing_db, name, content):
    src = tmp_path / f"{name}.jsonl"
    src.write_bytes(content)
    before = _sha(existing_db)
    _assert_refused(*run_cli("--db", str(existing_db), "import", str(src)))
    assert _sha(existing_db) == before


def test_cli_import_of_hypothesis_mutations_refuses_cleanly_or_imports(tmp_path, existing_db):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated())
    def one(lines):
        src = tmp_path / "m.jsonl"
        src.write_bytes(as_file_bytes(lines))
        fresh = tmp_path / "m.db"
        for path in tmp_path.glob("m.db*"):
            path.unlink()
        code, stdout, stderr = run_cli("--db", str(fresh), "import", str(src))
        if code == 0:
            assert fresh.exists() and stderr == ""
        else:
            _assert_refused(code, stdout, stderr)
            assert not fresh.exists()
        # Every mutation also collides with, or adds to, a database that exists: all or nothing.
        before = _sha(existing_db)
        code, stdout, stderr = run_cli("--db", str(existing_db), "import", str(src))
        if code != 0:
            _assert_refused(code, stdout, stderr)
            assert _sha(existing_db) == before

    one()
