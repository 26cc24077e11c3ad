"""Kill a recording process at a random moment and report what survived.

The child records a hooked driver that, first thing on every message, appends the
message's lParam1 to a "seen" file with one unbuffered write: the parent then knows every
message the driver saw, and can check each one against the database.
"""

import random
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from drvtape.schema.details import decode_end
from drvtape.schema.rows import Kind
from drvtape.store import Store
from drvtape.store.recovery import end_orphaned_sessions

CHILD = r"""
import os, struct, sys
from drvtape.recorder import Recorder
db, seen_path, mode, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = os.open(seen_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def driver(driver_id, hdrvr, msg, lparam1, lparam2):
    os.write(seen, struct.pack("<q", lparam1))
    return lparam1 & 0xFF
os.write(seen, struct.pack("<q", -2))  # imported: the recorder is made from here on
rec = Recorder(db, driver="crash-trial", durability=mode, batch_size=batch, max_pending=2 * batch)
proc = rec.wrap(driver)
os.write(seen, struct.pack("<q", -1))  # the session exists from here on
i = 0
while True:
    proc(0, 1, 0x4001, i, 0)
    i += 1
"""


@dataclass
class TrialResult:
    seen: list[int]  # lParam1 of every message the driver received
    calls: list[int]  # lParam1 of every call event stored
    seqs: list[int]
    end_reason: str | None
    session_exists: bool


def wait_for(child: subprocess.Popen, seen_path: Path, size: int) -> None:
    """Until the seen file holds size bytes (or the child is gone, or a minute passed)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None and \
            (not seen_path.exists() or seen_path.stat().st_size < size):
        time.sleep(0.005)


def run_trial(workdir: Path, mode: str, seed: int, batch: int = 64) -> TrialResult:
    rng = random.Random(seed)
    db, seen_path = workdir / f"t{seed}.db", workdir / f"t{seed}.seen"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(seen_path), mode, str(batch)],
                             stderr=subprocess.PIPE)
    # Python's start-up and imports are not what a trial tests, and on a loaded machine they
    # can outlast any fixed delay: each trial's clock starts once the child has imported drvtape
    wait_for(child, seen_path, 8)
    if rng.random() < 0.25:
        time.sleep(rng.uniform(0.0, 0.8))  # any moment: the recorder's creation, the session's, the loop
    else:
        wait_for(child, seen_path, 16)  # once the session exists
        time.sleep(rng.uniform(0.0, 0.25))
    child.send_signal(signal.SIGKILL)
    child.wait()  # reaped: its pid no longer names a live process
    raw = seen_path.read_bytes() if seen_path.exists() else b""
    values = [v for (v,) in struct.iter_unpack("<q", raw[: len(raw) // 8 * 8])][1:]  # after the -2 mark
    started = bool(values) and values[0] == -1
    if not started:
        return TrialResult([], [], [], None, False)
    with Store.open(db) as store:
        end_orphaned_sessions(store)  # as the next writer to open the database does
        session = store.resolve("last")
        rows = store.rows(session.pk)
    return TrialResult(
        seen=values[1:],
        calls=[r.lparam1 for r in rows if r.kind == Kind.CALL],
        seqs=[r.seq for r in rows],
        end_reason=next((decode_end(r.payload).reason.value for r in rows if r.kind == Kind.END), None),
        session_exists=True,
    )
