"""The options of the commands that run a driver (replay, explore, minimize; record's
--timeout), apart from options.py: their Threads brings drvtape.runtime into a command's
start-up, which the listings do without."""

import typer

from drvtape.runtime.schedule import Threads

TARGET_FOR_REPLAY = typer.Option(
    None, "--target", "-t", metavar="TARGET", show_default="none: a session's own target runs only if you say so",
    help="sim:NAME, py:MODULE:ATTR, dll:PATH, or 'recorded' for the target the session was recorded against.")
REPLAY_THREADS = typer.Option(
    Threads.FAITHFUL, metavar="faithful|serial",
    help="faithful: a replay thread per recorded thread; serial: every call on one thread, in seq order.")
REPEAT = typer.Option(1, min=1, max=100_000, metavar="N", help="Replay N times, each against a fresh driver.")
TIMEOUT = typer.Option(5.0, min=0.001, metavar="SECONDS",
                       help="How long a call of a real (dll:/py:) driver may take before it counts as a hang.")
