"""A line on stderr for a slow step that happens once (a build, creating the Wine prefix),
and progress while it runs, so that a first `dll:` use is not many seconds of silence."""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

TICK_S = 1.0  # on a terminal, the elapsed seconds are rewritten this often
LINE_TICK_S = 5.0  # elsewhere (a log, a pipe), a line this often


@contextmanager
def announced(what: str) -> Iterator[None]:
    """`drvtape: WHAT (once) ...`, the seconds so far while it runs, then how long it took."""
    err = sys.stderr
    tty = err.isatty()
    head = f"drvtape: {what} (once) ..."
    print(head, end="" if tty else "\n", file=err, flush=True)
    started = time.monotonic()
    done = threading.Event()

    def tick() -> None:
        while not done.wait(TICK_S if tty else LINE_TICK_S):
            elapsed = time.monotonic() - started
            print(f"\r{head} {elapsed:.0f} s" if tty else f"drvtape: {what}: {elapsed:.0f} s so far",
                  end="" if tty else "\n", file=err, flush=True)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        took = time.monotonic() - started
        print(f"\r{head} done in {took:.1f} s" if tty else f"drvtape: {what}: done in {took:.1f} s",
              file=err, flush=True)
