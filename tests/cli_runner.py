"""drvtape's command line run in this process, as the console script runs it."""

import os
import pty
import re
import subprocess
import sys

from typer.testing import CliRunner

from drvtape.cli import main


def run_cli(*args, input: str | bytes | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `drvtape ARGS`, with `input` as its stdin."""
    with CliRunner().isolation(input=input) as (stdout, stderr, _):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        # read inside: typer's runner closes its buffers when the block ends
        return code, stdout.getvalue().decode(), stderr.getvalue().decode(errors="replace")


def on_a_terminal(*args, stream: str = "stdout", columns: int = 100) -> tuple[int, str]:
    """Run the console script with `stream` (stdout or stderr) on a pseudo-terminal of `columns`
    columns and the other discarded; (exit code, what it wrote there, without colour codes)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm"}
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: slave}
    proc = subprocess.Popen([sys.executable, "-m", "drvtape", *args], env=env, **streams)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode(errors="replace"))
