"""`drvtape timeline` opened in headless Chromium: lanes, marks, no network, 100,000 events."""

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from importlib import resources

import pytest

from drvtape.schema.events import CallEvent, EndEvent, EndReason, ReturnEvent, SessionHeader, utc_now
from drvtape.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("required in CI: chromium (apt-get install chromium)", pytrace=False)
        pytest.skip("needs Debian's chromium")
    return CHROMIUM


def browse(chromium, page, tmp_path, *extra, fragment=""):
    """Chromium headless as this machine allows it: no sandbox as root, no background traffic."""
    profile = tmp_path / f"profile-{uuid.uuid4().hex[:6]}"
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", "--window-size=1200,700", "--virtual-time-budget=5000",
                           *extra, page.as_uri() + fragment], capture_output=True, text=True, timeout=120)


def record(db, bug):
    workload = resources.files("drvtape") / "workloads" / f"{bug}.toml"
    done = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "record", "--target", f"sim:{bug}",
                           "--workload", str(workload)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def timeline(db, out, *args):
    done = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "timeline", "last", "-o", str(out), *args],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def lanes_and_marks(dom):
    lanes = re.findall(r'class="lane (\w+)" data-lane="\w+"[^>]*>([^<]*)<', dom)
    marks = re.findall(r'class="mark (\w+)" data-kind="\w+" data-row="\d+">([^<]*)<', dom)
    return lanes, marks


def test_a_hang_and_a_fault_are_drawn_with_their_lanes(chromium, tmp_path):
    db = tmp_path / "t.db"
    record(db, "exit-spin")
    page = tmp_path / "exit-spin.html"
    timeline(db, page)
    html = page.read_text()
    assert not re.search(r"(src|href)=\"https?://", html) and "http://" not in html  # nothing from the network
    dom = browse(chromium, page, tmp_path, "--dump-dom").stdout
    assert 'data-ready="true"' in dom
    lanes, marks = lanes_and_marks(dom)
    assert [kind for kind, _ in lanes] == ["thread"] * 3 + ["driver"] + ["instance"] * 2
    assert ("hang", "no return: seq 10 (DRV_EXITSESSION)") in marks
    shot = tmp_path / "exit-spin.png"
    browse(chromium, page, tmp_path, f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")

    record(db, "use-after-release")
    timeline(db, page)
    lanes, marks = lanes_and_marks(browse(chromium, page, tmp_path, "--dump-dom").stdout)
    assert [kind for kind, _ in lanes] == ["thread", "driver", "instance"]
    assert any(kind == "fault" and "seq 11 (DRV_CLOSE)" in text and "0xC0000005" in text for kind, text in marks)


def test_a_session_of_100000_events_renders(chromium, tmp_path):
    db = tmp_path / "big.db"
    header = SessionHeader(id=uuid.uuid4(), driver="big", started_at=utc_now())
    events = []
    for i in range(50_000):
        events.append(CallEvent(seq=2 * i + 1, ts_ns=i * 1000, thread=1 + i % 4, msg=0x4001, driver_id=0x1001,
                                hdrvr=0x7E10 + 0x10 * (i % 3), lparam1=i, lparam2=0))
        events.append(ReturnEvent(seq=2 * i + 2, ts_ns=i * 1000 + 500, thread=1 + i % 4, call_seq=2 * i + 1,
                                  msg=0x4001, driver_id=0x1001, hdrvr=0x7E10 + 0x10 * (i % 3), result=0,
                                  duration_ns=500))
    events.append(EndEvent(seq=100_001, ts_ns=50_000_000, thread=1, reason=EndReason.CLOSED))
    with Store.open(db, create=True) as store:
        store.import_sessions([(header, events)])
    page = tmp_path / "big.html"
    timeline(db, page)
    assert page.stat().st_size < 20 * 1024 * 1024
    dom = browse(chromium, page, tmp_path, "--dump-dom").stdout
    assert 'data-ready="true"' in dom and "100001 events" in dom
    lanes, _ = lanes_and_marks(dom)
    assert [kind for kind, _ in lanes] == ["thread"] * 4 + ["driver"] + ["instance"] * 3


HEX = re.compile(r"0x[0-9A-F]+")


def test_chrome_trace_follows_the_trace_event_format(tmp_path):
    """What Perfetto and chrome://tracing need: complete slices with ts/dur/pid/tid in µs, sorted
    per track, instants for the fault and the end, names by metadata, args in hex."""
    db = tmp_path / "t.db"
    record(db, "use-after-release")
    trace_file = tmp_path / "t.json"
    timeline(db, trace_file, "--format", "chrome-trace")
    trace = json.loads(trace_file.read_text())["traceEvents"]
    with Store.open(str(db)) as store:
        stored = store.resolve("last")
        header, rows = stored.header, list(store.rows(stored.pk))
    calls = {row[0]: row for row in rows if row[1] == 0}
    slices = [e for e in trace if e["ph"] == "X"]
    assert [e["args"]["seq"] for e in slices] == sorted(calls)  # one slice per call
    for e in slices:
        assert all(isinstance(e[k], (int, float)) for k in ("ts", "dur", "pid", "tid")) and e["dur"] >= 0
        seq, _, ts_ns, thread = calls[e["args"]["seq"]][:4]
        assert e["ts"] == ts_ns / 1000 and e["tid"] == thread  # microseconds, the call's thread
        assert HEX.fullmatch(e["args"]["lParam2"])
        assert HEX.fullmatch(e["args"]["result"]) if "result" in e["args"] else "0xC0000005" in e["args"]["fault"]
    timed = [e for e in trace if e["ph"] != "M"]
    for track in {(e["pid"], e["tid"]) for e in timed}:
        on_track = [e["ts"] for e in timed if (e["pid"], e["tid"]) == track]
        assert on_track == sorted(on_track)
    instants = [e for e in trace if e["ph"] == "i"]
    assert [e["cat"] for e in instants] == ["fault", "end"] and all(e["s"] in "gpt" for e in instants)
    assert "0xC0000005" in instants[0]["args"]["fault"]
    names = {e["name"]: e for e in trace if e["ph"] == "M"}
    assert names["process_name"]["args"]["name"] == f"session {header.id}: {header.driver}"
    named = {e["tid"] for e in trace if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {e["tid"] for e in timed} == named  # every track has a name, no empty track


def test_the_page_names_the_session_shows_hex_and_finds_a_message(chromium, tmp_path):
    db = tmp_path / "t.db"
    record(db, "use-after-release")
    page = tmp_path / "t.html"
    timeline(db, page)
    with Store.open(str(db)) as store:
        stored = store.resolve("last")
        header = stored.header
        closes = [str(row[0]) for row in store.rows(stored.pk) if row[1] == 0 and row[4] == 0x0004]  # DRV_CLOSE
    assert '"-> 0x1001"' in page.read_text()  # DRV_OPEN's answer, in hex as the CLI shows it
    dom = browse(chromium, page, tmp_path, "--dump-dom", fragment="#search=drv_close").stdout
    assert 'data-ready="true"' in dom
    assert f"<title>drvtape timeline: session {header.id}: {header.driver}</title>" in dom
    found = re.search(r'id="found" data-matches="([^"]*)">([^<]*)<', dom)
    assert found and found.group(1).split() == closes and found.group(2) == f"{len(closes)} call(s) match"
