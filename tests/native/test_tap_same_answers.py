"""The tap is invisible (issue 11, item 1): threads opening, using and closing a driver at
once get the same answers with drvtap in the middle as without it. Before, the tap unloaded
the real DLL after one thread's DRV_FREE while another thread's DRV_LOAD or DRV_OPEN was
entering, and answered 0 (OpenDriver failed about half the time with msrle32)."""
import os
import struct
import subprocess
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.recorder.ingest import read_tape

ROUNDS_CLIENT = Path(__file__).parent / "clients" / "roundsclient.c"
DRIVERS32 = r"HKLM\Software\Microsoft\Windows NT\CurrentVersion\Drivers32"
THREADS, ROUNDS = "4", "20"


@pytest.fixture(scope="module")
def rounds_client(host) -> Path:
    return compile_pe([ROUNDS_CLIENT], flags=["-municode"])


def run_rounds(client: Path, *args: str, **env_extra: str) -> str:
    argv, env = wine.command(client)
    env = dict(env or os.environ)
    for name in ("DRVTAP_REAL", "DRVTAP_TAPE", "DRVTAP_FLUSH"):
        env.pop(name, None)
    env.update(env_extra)
    proc = subprocess.run([*argv, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return proc.stdout.strip()


@pytest.mark.parametrize("real", ["msvidc32.dll", "iccvid.dll", "msrle32.dll"])
def test_threads_opening_and_closing_at_once_get_the_same_answers_with_the_tap(tmp_path, tap, rounds_client,
                                                                                wine_drivers, real):
    real_path = wine.windows_path(str(wine_drivers / real))
    without = run_rounds(rounds_client, "open", real_path, THREADS, ROUNDS)
    tape = tmp_path / "rounds.drvtape"
    with_tap = run_rounds(rounds_client, "open", wine.windows_path(str(tap)), THREADS, ROUNDS,
                          DRVTAP_REAL=real_path, DRVTAP_TAPE=wine.windows_path(str(tape)))
    assert " failures 0 " in without and with_tap == without
    parsed = read_tape(tape)
    assert parsed.problems == []
    assert sum(s.calls for s in parsed.sessions) >= int(THREADS) * int(ROUNDS) * 3  # open, query, close
    assert all(s.end.reason.value == "closed" for s in parsed.sessions)


def avi_frames(path: Path) -> tuple[bytes, list[bytes]]:
    """The video stream's BITMAPINFOHEADER and its frames' bytes, from a RIFF AVI."""
    data = path.read_bytes()
    header, frames = b"", []

    def walk(start: int, end: int) -> None:
        nonlocal header
        pos = start
        while pos + 8 <= end:
            tag, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
            body = pos + 8
            if tag in (b"RIFF", b"LIST"):
                walk(body + 4, body + size)
            elif tag == b"strf" and not header:
                header = data[body:body + 40]
            elif tag[2:] in (b"dc", b"db") and size:
                frames.append(data[body:body + size])
            pos = body + size + (size & 1)

    walk(0, len(data))
    return header, frames


def frames_file(tmp_path: Path, codec: str) -> Path:
    avi = tmp_path / f"{codec}.avi"
    made = subprocess.run(["ffmpeg", "-y", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                           "testsrc=size=64x48:rate=5", "-t", "1", "-c:v", codec, str(avi)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    header, frames = avi_frames(avi)
    assert len(header) == 40 and frames
    out = tmp_path / f"{codec}.frames"
    out.write_bytes(header + struct.pack("<I", len(frames)) + b"".join(struct.pack("<I", len(f)) + f
                                                                      for f in frames))
    return out


def add_alias(name: str, value: str) -> None:
    argv, env = wine.command(Path("reg"))
    added = subprocess.run([*argv, "add", DRIVERS32, "/v", name, "/d", value, "/f"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert added.returncode == 0, added.stderr


def delete_alias(name: str) -> None:
    argv, env = wine.command(Path("reg"))
    subprocess.run([*argv, "delete", DRIVERS32, "/v", name, "/f"], env=env, capture_output=True, timeout=120)


@pytest.mark.parametrize("codec, real", [("cinepak", "iccvid.dll"), ("msvideo1", "msvidc32.dll")])
def test_threads_decompressing_at_once_decode_the_same_frames_with_the_tap(tmp_path, tap, rounds_client,
                                                                           wine_drivers, codec, real):
    """ICOpen/ICDecompress/ICClose rounds through two Drivers32 aliases of this test's own
    (so the prefix's vidc.cvid and vidc.msvc stay as they are): one names the real driver,
    one the tap forwarding to it."""
    if os.name != "nt" and not Path("/usr/bin/ffmpeg").exists():
        pytest.fail("ffmpeg is needed to make the test's AVI", pytrace=False)
    frames = wine.windows_path(str(frames_file(tmp_path, codec)))
    tag = f"{os.getpid() % 46656:03x}"[-3:]
    direct, tapped = f"d{tag}", f"t{tag}"
    real_path = wine.windows_path(str(wine_drivers / real))
    add_alias(f"vidc.{direct}", real_path)
    add_alias(f"vidc.{tapped}", wine.windows_path(str(tap)))
    try:
        without = run_rounds(rounds_client, "decompress", direct, frames, THREADS, ROUNDS)
        tape = tmp_path / "decompress.drvtape"
        with_tap = run_rounds(rounds_client, "decompress", tapped, frames, THREADS, ROUNDS,
                              DRVTAP_REAL=real_path, DRVTAP_TAPE=wine.windows_path(str(tape)))
    finally:
        delete_alias(f"vidc.{direct}")
        delete_alias(f"vidc.{tapped}")
    assert " failures 0 mismatches 0 " in without and "checksum 00000000" not in without
    assert with_tap == without
    parsed = read_tape(tape)
    # winmm may keep the last load to the process's end (observed under Wine 8.0 with msvfw32)
    assert parsed.problems == [] and {s.end.reason.value for s in parsed.sessions} <= {"closed", "process-exit"}
