"""The tap's cost per message with memory to capture (issue 10), beside the no-memory
baseline, and the tape bytes each kind of message takes: `codec_client bench`
(tests/native/clients/codec_bench.c) calls DriverProc in the process, of codec_stub (a codec
that does nothing) directly and through drvtap.dll in front of it, for
- DRV_USER+1 to a VfW instance (no memory: the hot path of the messages the catalog gives no memory),
- ICM_DECOMPRESS of a 320x240 24-bit frame (ICDECOMPRESS, two headers, a 9,853-byte packed
  frame, the 230,400-byte output frame: in/out, so read before and after),
- ACMDM_STREAM_CONVERT of 4 KiB (the stream instance and its formats, the stream header,
  4,096 source bytes, a 16 KiB destination: in/out)."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.build import build_drvtap, compile_pe
from drvtape.errors import DrvtapeError
from drvtape.formats.tape import REC_CALL, REC_RETURN, MemoryRecord, Record, records
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.memory.classes import DriverClass

REPO = Path(__file__).resolve().parents[1]
CLIENT_SOURCES = tuple(REPO / "tests" / "native" / "clients" / f"codec_{part}.c"
                       for part in ("client", "video", "audio", "bench"))
STUB_SOURCE = REPO / "tests" / "native" / "drivers" / "codec_stub.c"
CLIENT_LIBS = ("-lavifil32", "-lmsvfw32", "-lmsacm32", "-lwinmm")
DECOMPRESSES, CONVERTS = 200, 2000  # about 94 MB and 76 MB of tape
KINDS = {"nomemory": ("DRV_USER+1", DriverClass.VFW), "decompress": ("ICM_DECOMPRESS", DriverClass.VFW),
         "convert": ("ACMDM_STREAM_CONVERT", DriverClass.ACM)}


def _run(client: Path, dll: Path, counts: dict[str, int], **env: str) -> dict[str, float]:
    argv, wine_env = wine.command(client)
    full = {k: v for k, v in (wine_env or os.environ).items() if not k.startswith("DRVTAP_")}
    full.update(env)
    proc = subprocess.run([*argv, "bench", wine.windows_path(str(dll)), *map(str, counts.values())], env=full,
                          capture_output=True, text=True, timeout=900)
    found = dict(re.findall(r"^(\w+) ([0-9.]+) ns/call", proc.stdout, re.M))
    if proc.returncode != 0 or set(found) != set(KINDS):
        raise DrvtapeError(f"codec_client bench failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-200:]}")
    return {kind: float(ns) for kind, ns in found.items()}


def _tape_bytes(tape: Path) -> Counter:
    """Frame bytes per message code: its CALL, RETURN and MEMORY records."""
    codes: dict[int, int] = {}
    out: Counter = Counter()
    for item in records(tape.read_bytes(), []):
        if isinstance(item, MemoryRecord):
            out[codes[item.call_seq]] += 8 + 52 + len(item.path) + len(item.data)
        elif isinstance(item, Record) and item.fields.type == REC_CALL:
            codes[item.fields.seq] = item.fields.msg
            out[item.fields.msg] += 8 + len(item.body)
        elif isinstance(item, Record) and item.fields.type == REC_RETURN:
            out[item.fields.msg] += 8 + len(item.body)
    return out


def bench_tap_memory(n: int) -> dict:
    """ns per message directly and through the tap, and tape bytes per message, by kind
    (n no-memory messages, DECOMPRESSES decompresses, CONVERTS converts)."""
    if not all(source.is_file() for source in CLIENT_SOURCES):
        raise DrvtapeError(f"the tap memory benchmark needs the test client's sources ({CLIENT_SOURCES[0].parent}): "
                           "use a drvtape source checkout")
    counts = {"nomemory": max(int(n), 10_000), "decompress": DECOMPRESSES, "convert": CONVERTS}
    client = compile_pe(CLIENT_SOURCES, flags=["-municode"], libs=CLIENT_LIBS)
    stub = compile_pe([STUB_SOURCE], dll=True)
    with tempfile.TemporaryDirectory(prefix="drvtape-tapmembench-") as tmp:
        tape = Path(tmp) / "memory.drvtape"
        direct = _run(client, stub, counts)
        tapped = _run(client, build_drvtap(), counts, DRVTAP_REAL=wine.windows_path(str(stub)),
                      DRVTAP_TAPE=wine.windows_path(str(tape)))
        tape_bytes = _tape_bytes(tape)
    out: dict = {"dll": "codec_stub.dll"}
    for kind, (name, cls) in KINDS.items():
        taped = sum(size for code, size in tape_bytes.items() if message_name(code, cls) == name)
        out[kind] = {"message": name, "messages": counts[kind], "direct_ns_per_message": round(direct[kind], 1),
                     "tap_ns_per_message": round(tapped[kind], 1),
                     "added_ns_per_message": round(tapped[kind] - direct[kind], 1),
                     "tape_bytes_per_message": round(taped / counts[kind], 1)}
    return out
