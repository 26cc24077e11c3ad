"""Issue 13 item 1 under Wine 8.0: the tap in front of Wine's mciwave.dll (and mciseq.dll),
installed on the waveaudio (sequencer) alias: system.ini's [mci] line, which Wine's winmm
reads, and the MCI32 registry value, which Windows reads. A client opens, queries (length,
position, mode; a WAV file's format tag) and closes a WAV file Debian's ffmpeg made (a MIDI
file written here), through mciSendString and through mciSendCommand:
- it prints the same with and without the tap;
- the sessions name MCI_OPEN_DRIVER, MCI_STATUS and MCI_CLOSE_DRIVER (winmm opens and
  closes a device with these, not MCI_OPEN/MCI_CLOSE) with their parameter structs' fields;
- each session replays 5 of 5 against the driver with the MCI_STATUS answers compared;
- uninstall leaves system.ini and both registry keys byte-identical.
So is mciavi32.dll on an AVI file (status only): it creates its window at MCI_OPEN_DRIVER,
which under a Wine with no display fails with MCIERR_CREATEWINDOW (347), with or without the
tap, so this module's prefix uses Wine's null graphics driver (no window is shown).
mcicda.dll has no CD drive to open in a Wine prefix: its refusal is recorded and replayed."""
import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.recorder.aliasplaces import DRIVERS32_FULL, MCI32_FULL
from drvtape.recorder.tapinstall import install, status, uninstall

from tests.native.codec_sessions import ffmpeg_path, run_client
from tests.native.conftest import WINE_DRIVERS, unavailable
from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)

CLIENT = Path(__file__).parent / "clients" / "mci_client.c"
REPEAT = 5
DEVICES = {"waveaudio": ("mciwave.dll", "tone.wav"), "sequencer": ("mciseq.dll", "tune.mid"),
           "avivideo": ("mciavi32.dll", "clip.avi")}
FFMPEG_MEDIA = {
    "tone.wav": ("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-ac", "1", "-ar", "11025", "-c:a", "pcm_s16le"),
    "clip.avi": ("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-t", "1", "-c:v", "rawvideo", "-pix_fmt", "bgr24"),
}
WINE_DRIVERS_KEY = r"HKCU\Software\Wine\Drivers"  # Graphics=null: Wine's windowless graphics driver
# A format 0 MIDI file: 96 ticks a quarter note, 120 bpm, four notes of a quarter each
TUNE = (b"MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk\0\0\0\x2b\0\xff\x51\x03\x07\xa1\x20"
        + b"".join(bytes([0, 0x90, n, 100, 0x60, 0x80, n, 0]) for n in (60, 64, 67, 72)) + b"\0\xff\x2f\0")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        unavailable("ffmpeg not found (Debian package ffmpeg)")
    folder = tmp_path_factory.mktemp("mci")
    for name, options in FFMPEG_MEDIA.items():
        proc = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *options, str(folder / name)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (name, proc.stderr)
    (folder / "tune.mid").write_bytes(TUNE)
    return folder


@pytest.fixture(scope="module")
def headless_prefix(own_prefix):  # noqa: F811
    """This module's prefix with Wine's null graphics driver, its wineserver restarted to use it."""
    argv, env = wine.command(Path("reg"))
    proc = subprocess.run([*argv, "add", WINE_DRIVERS_KEY, "/v", "Graphics", "/d", "null", "/f"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    subprocess.run([str(Path(wine.wine_binary()).with_name("wineserver")), "-k"], env=env, capture_output=True,
                   timeout=60)
    wine.ensure_prefix()
    return own_prefix


def export(key: str, out: Path) -> bytes:
    argv, env = wine.command(Path("reg"))
    proc = subprocess.run([*argv, "export", key, wine.windows_path(str(out)), "/y"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return out.read_bytes()


def drvtape(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True,
                          timeout=900)


class Recorded(NamedTuple):
    alias: str
    real: Path  # the driver
    plain: str  # the client's output without the tap
    tapped: str  # and with it
    tape: Path
    places: list[str]  # where install changed the alias


@pytest.fixture(scope="module", params=list(DEVICES))
def recorded(request, headless_prefix, media, host, tmp_path_factory):
    """One device's Recorded, system.ini and the registry checked byte-identical after uninstall."""
    alias = request.param
    real, file = WINE_DRIVERS / DEVICES[alias][0], media / DEVICES[alias][1]
    if not real.is_file():
        unavailable(f"Wine's {real.name} is not in {WINE_DRIVERS}")
    folder = tmp_path_factory.mktemp(alias)
    ini = headless_prefix / "drive_c" / "windows" / "system.ini"
    before = ini.read_bytes(), export(MCI32_FULL, folder / "mci32.reg"), export(DRIVERS32_FULL, folder / "d32.reg")
    client = compile_pe([CLIENT], flags=["-municode"], libs=["-lwinmm"])
    args = (alias, wine.windows_path(str(file)))
    plain = run_client(client, args, folder)
    tape = folder / f"{alias}.drvtape"
    done = install(alias, str(real), tape=str(tape))
    try:
        assert status(alias)["intact"] and status(alias)["points_at_tap"]
        tapped = run_client(client, args, folder)
    finally:
        uninstall(alias)
    after = ini.read_bytes(), export(MCI32_FULL, folder / "mci32.reg"), export(DRIVERS32_FULL, folder / "d32.reg")
    assert after == before
    return Recorded(alias, real, plain, tapped, tape, [p["place"] for p in done["places"]])


def test_install_changes_the_mci_line_and_the_mci32_value_and_the_output_is_the_same(recorded):
    assert recorded.places == ["system.ini", "registry (MCI32)"]
    assert recorded.tapped == recorded.plain
    plain = recorded.plain
    assert "command status length: 0 " in plain and "string status dev mode: 0 stopped" in plain
    if recorded.alias == "waveaudio":
        assert "command status format tag: 0 1" in plain and "string status dev format tag: 0 pcm" in plain
    assert recorded.tape.stat().st_size > 0


def sessions(db: Path, tape: Path) -> list[str]:
    ingested = drvtape(db, "ingest", "--json", str(tape))
    assert ingested.returncode == 0, ingested.stderr
    return [s["session"] for t in json.loads(ingested.stdout)["tapes"] for s in t["sessions"]]


def test_the_sessions_name_mci_commands_with_their_struct_fields(recorded, tmp_path):
    db = tmp_path / "mci.db"
    found = sessions(db, recorded.tape)
    assert len(found) == 2  # one device opened through mciSendString, one through mciSendCommand
    commands: set[str] = set()
    for session in found:
        listed = drvtape(db, "events", session, "--json")
        assert listed.returncode == 0, listed.stderr
        events = json.loads(listed.stdout)
        calls = [e for e in events if e["kind"] == "call"]
        names = [e["msg_name"] for e in calls]
        assert names.count("MCI_OPEN_DRIVER") == names.count("MCI_CLOSE_DRIVER") == 1
        assert names.count("MCI_STATUS") >= 3  # length, position, mode
        commands.update(names)
        opened = {m["path"]: m for m in next(e for e in calls if e["msg_name"] == "MCI_OPEN_DRIVER")["memory"]}
        assert opened["lparam2"]["fields"]["wDeviceID"] >= 1 and opened["lparam2"]["fields"]["dwCallback"] == 0
        assert opened["lparam2.lpstrElementName"]["text"].endswith(DEVICES[recorded.alias][1])
        assert opened["lparam2.lpstrDeviceType"]["text"] == recorded.alias
        info = next(e for e in calls if e["msg_name"] == "MCI_INFO")  # MCI_INFO_PRODUCT
        returned = next(e for e in events if e["kind"] == "return" and e["call_seq"] == info["seq"])
        product = next(m for m in returned["memory"] if m["path"] == "lparam2.lpstrReturn")
        assert product["text"] and f"product: 0 {product['text']}\n" in recorded.plain  # what the client got
        status_call = next(e for e in calls if e["msg_name"] == "MCI_STATUS")
        assert status_call["class"] == "mci" and status_call["lparam1"] & 0x100  # MCI_STATUS_ITEM
        items = {m["fields"]["dwItem"] for e in calls if e["msg_name"] == "MCI_STATUS" for m in e["memory"]}
        assert {1, 2} <= items  # MCI_STATUS_LENGTH, MCI_STATUS_POSITION
        shown = drvtape(db, "show", session)
        assert shown.returncode == 0 and "MCI_STATUS" in shown.stdout, shown.stderr
    assert "MCI_SET" in commands  # the time format


def test_every_session_replays_5_of_5_against_the_driver_with_its_answers_compared(recorded, tmp_path):
    db = tmp_path / "mci.db"
    for session in sessions(db, recorded.tape):
        replayed = drvtape(db, "replay", session, "--target", f"dll:{recorded.real}", "--repeat", str(REPEAT), "--json")
        assert replayed.returncode == 0, (replayed.stdout[-2000:], replayed.stderr)
        report = json.loads(replayed.stdout)
        assert report["reproduced_runs"] == REPEAT, report["distinct_outcomes"]
        assert report["first_memory_difference"] is None, report["first_memory_difference"]
        listed = drvtape(db, "events", session, "--json")
        written = [m for e in json.loads(listed.stdout) if e["kind"] == "return" for m in e["memory"]]
        assert report["outputs_compared"] == len(written) >= 5  # every MCI_STATUS_PARMS, MCI_INFO's text
        assert report["unknown_meaning_calls"] == 0


# ---- mcicda with no CD drive (issue 13) ----------------------------------------------------------

CD_CLIENT = Path(__file__).parent / "clients" / "cd_client.c"
MCIERR_CANNOT_LOAD_DRIVER = 266  # mmsystem.h: MCIERR_BASE (256) + 10


@pytest.fixture(scope="module")
def cd_recorded(headless_prefix, host, tmp_path_factory) -> Recorded:
    """cd_client's opens of cdaudio without and with the tap in front of Wine's mcicda.dll.
    A Wine prefix has no drive of type DRIVE_CDROM (c: and z: only), so mcicda's
    MCI_OPEN_DRIVER, given no element, finds none and answers MCIERR_CANNOT_LOAD_DRIVER: the
    same answer on every run, and so a session that replays."""
    real = WINE_DRIVERS / "mcicda.dll"
    if not real.is_file():
        unavailable(f"Wine's {real.name} is not in {WINE_DRIVERS}")
    folder = tmp_path_factory.mktemp("cdaudio")
    ini = headless_prefix / "drive_c" / "windows" / "system.ini"
    before = ini.read_bytes(), export(MCI32_FULL, folder / "mci32.reg")
    client = compile_pe([CD_CLIENT], flags=["-municode"], libs=["-lwinmm"])
    plain = run_client(client, (), folder)
    tape = folder / "cdaudio.drvtape"
    done = install("cdaudio", str(real), tape=str(tape))
    try:
        tapped = run_client(client, (), folder)
    finally:
        uninstall("cdaudio")
    assert (ini.read_bytes(), export(MCI32_FULL, folder / "mci32.reg")) == before
    return Recorded("cdaudio", real, plain, tapped, tape, [p["place"] for p in done["places"]])


def test_mcicda_with_no_cd_drive_refuses_the_open_the_same_with_the_tap(cd_recorded):
    assert cd_recorded.places == ["system.ini", "registry (MCI32)"]
    assert cd_recorded.tapped == cd_recorded.plain
    assert cd_recorded.plain.splitlines() == [f"string open: {MCIERR_CANNOT_LOAD_DRIVER}",
                                              f"command open: {MCIERR_CANNOT_LOAD_DRIVER}"]


def test_mcicda_refusing_the_open_is_recorded_and_replays_5_of_5(cd_recorded, tmp_path):
    db = tmp_path / "cd.db"
    found = sessions(db, cd_recorded.tape)
    assert len(found) == 2  # one per open
    for session in found:
        events = json.loads(drvtape(db, "events", session, "--json").stdout)
        calls = [e for e in events if e["kind"] == "call"]
        results = {e["call_seq"]: e["result"] for e in events if e["kind"] == "return"}
        opened = next(e for e in calls if e["msg_name"] == "MCI_OPEN_DRIVER")
        assert opened["class"] == "mci" and results[opened["seq"]] == MCIERR_CANNOT_LOAD_DRIVER
        fields = {m["path"]: m for m in opened["memory"]}["lparam2"]["fields"]
        # winmm's DRV_OPEN with lParam2 NULL first, then the one with the MCI_OPEN_DRIVER_PARMS
        drv_open = next(e for e in calls if e["msg_name"] == "DRV_OPEN" and e["payload"])
        parms = drv_open["payload"]["lparam2"]
        assert parms["struct"] == "MCI_OPEN_DRIVER_PARMS" and parms["fields"]["wDeviceID"] == fields["wDeviceID"]
        assert "DRV_CLOSE" in [e["msg_name"] for e in calls[calls.index(opened):]]
        replayed = drvtape(db, "replay", session, "--target", f"dll:{cd_recorded.real}", "--repeat", str(REPEAT),
                           "--json")
        assert replayed.returncode == 0, (replayed.stdout[-2000:], replayed.stderr)
        report = json.loads(replayed.stdout)
        assert report["reproduced_runs"] == REPEAT, report["distinct_outcomes"]
        assert report["unknown_meaning_calls"] == 0
