"""drvtape's command line run in this process, as the console script runs it."""

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
