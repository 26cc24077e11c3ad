"""Child processes forked from the test process: start-up costs nothing, so a soak of a
hundred SIGKILLs or eight processes opening a database at the same instant stays fast."""

import os
import random
import signal
import time
import traceback


def fork(work, *args, at: float | None = None) -> int:
    """A child that runs work(*args) (from time.time() == at, when given) and exits 0, or 1
    with the traceback on stderr."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        if at is not None:
            while time.time() < at:
                pass
        work(*args)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def wait(pid: int) -> int:
    """The child's exit code; -N when signal N ended it."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def kill_at_random(work, *args, within: float, rng: random.Random) -> bool:
    """Run work(*args) in a child and SIGKILL it after a random delay of up to `within`
    seconds; True when it was killed before it finished."""
    pid = fork(work, *args)
    time.sleep(rng.uniform(0, within))
    os.kill(pid, signal.SIGKILL)
    code = wait(pid)
    assert code in (0, -signal.SIGKILL), f"the child failed on its own (exit {code})"
    return code == -signal.SIGKILL


def timed(work, *args) -> float:
    """How long work(*args) takes in a child, in seconds (to aim the kills of a soak). Soaks
    aim by the fastest of a few runs: one run slowed by the rest of the suite would spread the
    kills past the end of most children (CI once saw 6 of 20 upgrades killed, 8 needed)."""
    start = time.monotonic()
    code = wait(fork(work, *args))
    assert code == 0, f"the child failed (exit {code})"
    return time.monotonic() - start


def trials(default: int) -> int:
    """The number of trials of a soak: DRVTAPE_CRASH_TRIALS multiplies it (scripts/crash-soak)."""
    return default * int(os.environ.get("DRVTAPE_CRASH_TRIALS", "1"))
