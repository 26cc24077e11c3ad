"""Issue 13 item 1 under Wine 8.0: the tap in front of Wine's mciwave.dll, installed on the
waveaudio alias (system.ini's [mci] line, which Wine's winmm reads, and the MCI32 registry
value, which Windows reads). A client opens, queries (length, position, format tag) and
closes a WAV file Debian's ffmpeg made, through mciSendString and through mciSendCommand:
- it prints the same with and without the tap;
- the sessions name MCI_OPEN_DRIVER, MCI_STATUS and MCI_CLOSE_DRIVER (winmm opens and
  closes a device with these, not MCI_OPEN/MCI_CLOSE) with their parameter structs' fields;
- each session replays 5 of 5 against mciwave.dll with the MCI_STATUS answers compared;
- uninstall leaves system.ini and both registry keys byte-identical."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.recorder.aliasplaces import DRIVERS32_FULL, MCI32_FULL
from drvtape.recorder.tapinstall import install, status, uninstall

from tests.native.codec_sessions import ffmpeg_path, run_client
from tests.native.conftest import WINE_DRIVERS, unavailable
from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)

CLIENT = Path(__file__).parent / "clients" / "mci_wave.c"
ALIAS = "waveaudio"
REPEAT = 5
MCIWAVE = WINE_DRIVERS / "mciwave.dll"


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        unavailable("ffmpeg not found (Debian package ffmpeg)")
    out = tmp_path_factory.mktemp("mci") / "tone.wav"
    proc = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                           "sine=frequency=440:duration=1", "-ac", "1", "-ar", "11025", "-c:a", "pcm_s16le", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def export(key: str, out: Path) -> bytes:
    argv, env = wine.command(Path("reg"))
    proc = subprocess.run([*argv, "export", key, wine.windows_path(str(out)), "/y"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return out.read_bytes()


def drvtape(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def recorded(own_prefix, wav, host, tmp_path_factory):  # noqa: F811
    """(output without the tap, output with it, the tape, the places install changed), with
    system.ini and the registry checked byte-identical after uninstall."""
    folder = tmp_path_factory.mktemp("mcitape")
    ini = own_prefix / "drive_c" / "windows" / "system.ini"
    before = ini.read_bytes(), export(MCI32_FULL, folder / "mci32.reg"), export(DRIVERS32_FULL, folder / "d32.reg")
    client = compile_pe([CLIENT], flags=["-municode"], libs=["-lwinmm"])
    args = (wine.windows_path(str(wav)),)
    plain = run_client(client, args, folder)
    if not MCIWAVE.is_file():
        unavailable(f"Wine's mciwave.dll is not in {WINE_DRIVERS}")
    tape = folder / "mciwave.drvtape"
    done = install(ALIAS, str(MCIWAVE), tape=str(tape))
    try:
        assert status(ALIAS)["intact"] and status(ALIAS)["points_at_tap"]
        tapped = run_client(client, args, folder)
    finally:
        uninstall(ALIAS)
    after = ini.read_bytes(), export(MCI32_FULL, folder / "mci32.reg"), export(DRIVERS32_FULL, folder / "d32.reg")
    assert after == before
    return plain, tapped, tape, [p["place"] for p in done["places"]]


def test_install_changes_the_mci_line_and_the_mci32_value_and_the_output_is_the_same(recorded):
    plain, tapped, tape, places = recorded
    assert places == ["system.ini", "registry (MCI32)"]
    assert tapped == plain
    assert "command status format tag: 0 1" in plain and "string status wav format tag: 0 pcm" in plain
    assert "failed" not in plain and tape.stat().st_size > 0


def sessions(db: Path, tape: Path) -> list[str]:
    ingested = drvtape(db, "ingest", "--json", str(tape))
    assert ingested.returncode == 0, ingested.stderr
    return [s["session"] for t in json.loads(ingested.stdout)["tapes"] for s in t["sessions"]]


def test_the_sessions_name_mci_commands_with_their_struct_fields(recorded, tmp_path):
    db = tmp_path / "mci.db"
    found = sessions(db, recorded[2])
    assert len(found) == 2  # one device opened through mciSendString, one through mciSendCommand
    for session in found:
        listed = drvtape(db, "events", session, "--json")
        assert listed.returncode == 0, listed.stderr
        calls = [e for e in json.loads(listed.stdout) if e["kind"] == "call"]
        names = [e["msg_name"] for e in calls]
        assert names.count("MCI_OPEN_DRIVER") == names.count("MCI_CLOSE_DRIVER") == 1
        assert names.count("MCI_STATUS") >= 4 and "MCI_SET" in names
        opened = {m["path"]: m for m in next(e for e in calls if e["msg_name"] == "MCI_OPEN_DRIVER")["memory"]}
        assert opened["lparam2"]["fields"]["wDeviceID"] >= 1 and opened["lparam2"]["fields"]["dwCallback"] == 0
        assert opened["lparam2.lpstrElementName"]["text"].endswith("tone.wav")
        assert opened["lparam2.lpstrDeviceType"]["text"] == "waveaudio"
        status_call = next(e for e in calls if e["msg_name"] == "MCI_STATUS")
        assert status_call["class"] == "mci" and status_call["lparam1"] & 0x100  # MCI_STATUS_ITEM
        items = {m["fields"]["dwItem"] for e in calls if e["msg_name"] == "MCI_STATUS" for m in e["memory"]}
        assert {1, 2} <= items  # MCI_STATUS_LENGTH, MCI_STATUS_POSITION
        shown = drvtape(db, "show", session)
        assert shown.returncode == 0 and "MCI_STATUS" in shown.stdout, shown.stderr


def test_every_session_replays_5_of_5_against_mciwave_with_its_answers_compared(recorded, tmp_path):
    db = tmp_path / "mci.db"
    for session in sessions(db, recorded[2]):
        replayed = drvtape(db, "replay", session, "--target", f"dll:{MCIWAVE}", "--repeat", str(REPEAT), "--json")
        assert replayed.returncode == 0, (replayed.stdout[-2000:], replayed.stderr)
        report = json.loads(replayed.stdout)
        assert report["reproduced_runs"] == REPEAT, report["distinct_outcomes"]
        assert report["first_memory_difference"] is None, report["first_memory_difference"]
        assert report["outputs_compared"] >= 4  # each MCI_STATUS's dwReturn
        assert report["unknown_meaning_calls"] == 0
