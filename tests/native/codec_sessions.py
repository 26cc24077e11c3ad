"""What the codec tests share: media made by Debian's ffmpeg, the codec client's runs per
Wine codec (with and without the tap in front, through `tap install` on the codec's alias),
and a tape's calls with their memory blocks.

ffmpeg writes no MS-RLE (its msrle is a decoder only): msrle32 is driven by the client's
ICCompress -> ICDecompress round trip of synthetic 8-bit frames instead."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.formats.tape import REC_CALL, REC_RETURN, MemoryRecord, Record, TapeHeader, records
from drvtape.recorder.tapinstall import install, uninstall

CLIENT = tuple(Path(__file__).parent / "clients" / f"codec_{part}.c" for part in ("client", "video", "audio", "bench"))
CLIENT_LIBS = ("-lavifil32", "-lmsvfw32", "-lmsacm32", "-lwinmm")
LAVFI_VIDEO = ("-f", "lavfi", "-i", "testsrc=size=320x240:rate=5", "-frames:v", "4")
LAVFI_AUDIO = ("-f", "lavfi", "-i", "sine=frequency=440:sample_rate={rate}:duration=2", "-ac", "1")
MEDIA = {  # file: (input, ffmpeg encoder options)
    "cinepak.avi": (LAVFI_VIDEO, ("-c:v", "cinepak")),
    "cram.avi": (LAVFI_VIDEO, ("-c:v", "msvideo1")),
    "adpcm_ms.wav": (LAVFI_AUDIO, ("-c:a", "adpcm_ms")),
    "adpcm_ima.wav": (LAVFI_AUDIO, ("-c:a", "adpcm_ima_wav")),
    "mulaw.wav": (LAVFI_AUDIO, ("-c:a", "pcm_mulaw")),
    "alaw.wav": (LAVFI_AUDIO, ("-c:a", "pcm_alaw")),
    "gsm.wav": (LAVFI_AUDIO, ("-c:a", "libgsm_ms")),  # GSM 6.10 wants 8000 Hz mono
    "mp3.wav": (LAVFI_AUDIO, ("-c:a", "libmp3lame", "-b:a", "32k")),
}
AUDIO_RATES = {"mp3.wav": 22050}  # the others: 8000 Hz

# Wine's codec file: (its Drivers32 alias in a new Wine 8.0 prefix, the client runs)
CODECS = {
    "msrle32.dll": ("vidc.mrle", (("roundtrip", "mrle", "64", "48", "3"),)),
    "msvidc32.dll": ("vidc.msvc", (("avi", "cram.avi"), ("icdecompress", "cram.avi"))),
    "iccvid.dll": ("vidc.cvid", (("avi", "cinepak.avi"), ("icdecompress", "cinepak.avi"))),
    "msadp32.acm": ("msacm.msadpcm", (("acmconvert", "adpcm_ms.wav"), ("acmlist",))),
    "imaadp32.acm": ("msacm.imaadpcm", (("acmconvert", "adpcm_ima.wav"), ("acmlist",))),
    "msg711.acm": ("msacm.msg711", (("acmconvert", "mulaw.wav"), ("acmconvert", "alaw.wav"), ("acmlist",))),
    "msgsm32.acm": ("msacm.msgsm610", (("acmconvert", "gsm.wav"), ("acmlist",))),
    "l3codeca.acm": ("msacm.l3acm", (("acmconvert", "mp3.wav"), ("acmlist",))),
}


def make_media(ffmpeg: str, folder: Path) -> Path:
    for name, (source, options) in MEDIA.items():
        source = tuple(arg.format(rate=AUDIO_RATES.get(name, 8000)) for arg in source)
        proc = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *source, *options,
                               str(folder / name)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (name, proc.stderr)
    return folder


@dataclass
class ClientRun:
    args: tuple[str, ...]
    plain: str  # stdout without the tap
    tapped: str  # stdout with the tap in front of the codec
    tape: Path


def run_client(client: Path, args: tuple[str, ...], cwd: Path, **env: str) -> str:
    argv, wine_env = wine.command(client)
    full = {k: v for k, v in (wine_env or os.environ).items() if not k.startswith("DRVTAP_")}
    full.update(env)
    proc = subprocess.run([*argv, *args], env=full, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr[-3000:])
    return proc.stdout


def record_codec(client: Path, codec_folder: Path, real: str, media: Path, tapes: Path,
                 **env: str) -> list[ClientRun]:
    """Each of the codec's client runs without the tap, then with it installed on the alias
    (one tape per run, DRVTAP_TAPE), uninstalled afterwards whatever happens."""
    alias, runs = CODECS[real]
    plain = [run_client(client, args, media) for args in runs]
    install(alias, str(codec_folder / real), tape=str(tapes / f"{real}.installed.drvtape"))
    try:
        out = []
        for i, args in enumerate(runs):
            tape = tapes / f"{real}.{i}.drvtape"
            tapped = run_client(client, args, media, DRVTAP_TAPE=wine.windows_path(str(tape)), **env)
            out.append(ClientRun(args, plain[i], tapped, tape))
        return out
    finally:
        uninstall(alias)


@dataclass
class TapedCall:
    seq: int
    msg: int
    driver_id: int
    lparam1: int
    lparam2: int
    result: int | None = None
    memory: list[MemoryRecord] = field(default_factory=list)

    def block(self, path: str, phase: int) -> MemoryRecord:
        (found,) = [m for m in self.memory if m.path == path and m.phase == phase]
        return found


def taped_calls(tape: Path) -> list[TapedCall]:
    """Every call of every session of the tape, in file order, with its memory blocks."""
    problems: list = []
    calls: list[TapedCall] = []
    session: dict[int, TapedCall] = {}
    for item in records(tape.read_bytes(), problems):
        if isinstance(item, TapeHeader):
            session = {}
        elif isinstance(item, MemoryRecord):
            session[item.call_seq].memory.append(item)
        elif isinstance(item, Record) and item.fields.type == REC_CALL:
            f = item.fields
            session[f.seq] = TapedCall(f.seq, f.msg, f.driver_id, f.lparam1, f.lparam2)
            calls.append(session[f.seq])
        elif isinstance(item, Record) and item.fields.type == REC_RETURN:
            session[item.fields.call_seq].result = item.fields.result
    assert not problems, problems
    return calls


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


REPEAT = 5


def drvtape(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], capture_output=True, text=True,
                          timeout=900)


def ingested_sessions(db: Path, run: ClientRun) -> list[dict]:
    """The sessions `drvtape ingest --json` stored from the run's tape (at least one)."""
    ingested = drvtape(db, "ingest", "--json", str(run.tape))
    assert ingested.returncode == 0, ingested.stderr
    sessions = [s for tape in json.loads(ingested.stdout)["tapes"] for s in tape["sessions"]]
    assert sessions, run.args
    return sessions


def replayed_faithfully(db: Path, run: ClientRun, session: dict, dll: Path) -> dict:
    """The report of replaying the session REPEAT times against dll, each run reproduced with
    no memory difference."""
    replayed = drvtape(db, "replay", session["session"], "--target", f"dll:{dll}", "--repeat", str(REPEAT), "--json")
    assert replayed.returncode == 0, (run.args, session, replayed.stdout[-2000:], replayed.stderr)
    report = json.loads(replayed.stdout)
    assert report["reproduced_runs"] == REPEAT, (run.args, report["distinct_outcomes"])
    assert report["first_memory_difference"] is None, (run.args, report["first_memory_difference"])
    return report
