"""Issue 12: a client opening a codec from 4 threads through the tap (OpenDriver,
DRV_QUERYCONFIGURE, CloseDriver rounds overlapping), replayed thread-faithfully 20 times
against the real DLL: 20 of 20 for each multi-threaded session. Only open, query and close
run at once: iccvid under Wine 8.0 is not thread-safe for decoding (roundsclient.c)."""
import json
import subprocess
import sys

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.replay import load_recording, replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema.outcome import COMPLETED
from drvtape.store import Store
from tests.native.test_tap_same_answers import ROUNDS_CLIENT, run_rounds


@pytest.fixture(scope="module")
def rounds_client(host):
    return compile_pe([ROUNDS_CLIENT], flags=["-municode"])


@pytest.mark.parametrize("real", ["iccvid.dll", "msvidc32.dll", "msrle32.dll"])
def test_four_threads_through_the_tap_replay_20_of_20(tmp_path, tap, rounds_client, wine_drivers, real):
    tape, db = tmp_path / "rounds.drvtape", tmp_path / "r.db"
    run_rounds(rounds_client, "open", wine.windows_path(str(tap)), "4", "5",
               DRVTAP_REAL=wine.windows_path(str(wine_drivers / real)), DRVTAP_TAPE=wine.windows_path(str(tape)))
    ingested = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "ingest", "--quiet", str(tape)],
                              capture_output=True, text=True)
    assert ingested.returncode == 0, ingested.stderr
    listed = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), "sessions", "--json"],
                            capture_output=True, text=True)
    sessions = json.loads(listed.stdout)
    replayed = 0
    with Store.open(db) as store:
        for session in sessions:
            recording = load_recording(store, str(session["id"]))
            if recording.threads < 2:
                continue
            report = replay_recording(recording, parse_target(f"dll:{wine_drivers / real}"), repeat=20)
            assert report.runs == [COMPLETED] * 20, (session["id"], report.distinct_outcomes)
            replayed += 1
    assert replayed
