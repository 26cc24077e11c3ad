"""`drvtape timeline` opened in headless Chromium: lanes, marks, no network, 100,000 events."""

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


def browse(chromium, page, tmp_path, *extra):
    """Chromium headless as this machine allows it: no sandbox as root, no background traffic."""
    profile = tmp_path / f"profile-{uuid.uuid4().hex[:6]}"
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", "--window-size=1200,700", "--virtual-time-budget=5000",
                           *extra, page.as_uri()], capture_output=True, text=True, timeout=120)


def record(db, bug):
    workload = resources.files("drvtape") / "workloads" / f"{bug}.toml"
    done = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "record", "--target", f"sim:{bug}",
                           "--workload", str(workload)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def timeline(db, out):
    done = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "timeline", "last", "-o", str(out)],
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
