"""`drvtape tap run`: install the tap on aliases, run a program, uninstall, and keep its tapes.

The program runs under Wine off Windows, in the prefix the user names (--prefix, else
WINEPREFIX), else drvtape's own for its arch (its PE machine: a 32-bit program runs under
Wine's 32-bit loader, in the 32-bit prefix, with the x86 tap, whose aliases go where 32-bit
programs read them). A user's prefix is used as it is: it must exist already,
and nothing in it but the aliases is changed (drvtape's own prefix is created on first use).
Each alias's tap writes one tape in a fresh folder (several processes of the program may
append to it at once). The program's output goes to stderr, so that drvtape's stdout holds
only the sessions stored (in --format). The aliases are uninstalled whatever happens to the program: its
crash, a SIGINT or SIGTERM to drvtape (passed on to the program, which is then waited for),
or an error of drvtape's own.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, X86, Arch
from drvtape.dllhost.pe import pe_arch
from drvtape.errors import DrvtapeError
from drvtape.recorder.ingest import Tape, read_tape
from drvtape.recorder.tapinstall import install, state_folder, uninstall

STOP_GRACE_S = 10.0  # how long a signalled program gets to exit before it is killed


@dataclass(frozen=True)
class Prefix:
    path: Path | None  # None on Windows
    source: str  # "--prefix", "WINEPREFIX", "drvtape's own" or "" on Windows
    arch: Arch = X64  # the program's

    def describe(self) -> str:
        return f"Wine prefix {self.path} ({self.source})" if self.path else "no Wine (Windows)"


@dataclass
class TapRun:
    prefix: Prefix
    exit_code: int | None = None  # None: the program did not run to its end
    interrupted: str | None = None  # the signal's name
    tapes: list[Tape] = field(default_factory=list)
    folder: Path | None = None  # where the tapes are


def program_arch(argv: Sequence[str], pairs: Sequence[tuple[str, str]]) -> Arch:
    """The arch of the program (its PE machine; a name that is no file here, such as a Wine
    builtin, takes the real drivers' arch), refused unless every real driver has it too."""
    reals = [(real, pe_arch(Path(real))) for _, real in pairs if Path(real).is_file()]
    program = Path(argv[0]) if argv else None
    if program is not None and program.is_file():
        arch = pe_arch(program)
    else:
        arch = reals[0][1] if reals else X64
    for real, real_arch in reals:
        if real_arch is not arch:
            raise DrvtapeError(f"{real} is {real_arch.name} and the program {arch.name}: "
                               f"a process loads only drivers of its own arch")
    return arch


def choose_prefix(given: str | None, arch: Arch = X64) -> Prefix:
    """The prefix to run arch's program in; a user's one must be a Wine prefix already (system.reg in it)."""
    if os.name == "nt":  # pragma: no cover - Windows only
        return Prefix(None, "", arch)
    if given:
        chosen = Prefix(Path(given).expanduser().resolve(), "--prefix", arch)
    elif os.environ.get("WINEPREFIX"):
        chosen = Prefix(Path(os.environ["WINEPREFIX"]).expanduser().resolve(), "WINEPREFIX", arch)
    else:
        return Prefix(wine.ensure_prefix(arch), "drvtape's own", arch)
    if not (chosen.path / "system.reg").is_file():
        raise DrvtapeError(f"not a Wine prefix (no system.reg): {chosen.path} (from {chosen.source})")
    return chosen


class Signals:
    """SIGINT and SIGTERM while the run lasts: noted, and raised as KeyboardInterrupt only while
    the program is waited for, so that an install or uninstall in progress is never cut short."""

    def __init__(self) -> None:
        self.caught: signal.Signals | None = None
        self.waiting = False

    def _note(self, signum, frame) -> None:
        self.caught = signal.Signals(signum)
        if self.waiting:
            raise KeyboardInterrupt(self.caught.name)

    @contextmanager
    def handled(self) -> Iterator["Signals"]:
        before = {s: signal.signal(s, self._note) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in before.items():
                signal.signal(s, handler)


def _stop(proc: subprocess.Popen, signum: int) -> None:
    if proc.poll() is None:
        proc.send_signal(signum)
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_program(argv: Sequence[str], prefix: Prefix, run: TapRun, signals: Signals) -> None:
    """Run ARGV (a program of the prefix's arch, under Wine off Windows), its stdout to stderr."""
    if signals.caught is not None:  # before the program started: it is not started
        run.interrupted = signals.caught.name
        return
    command = list(argv) if prefix.path is None else [wine.wine_binary(prefix.arch), *argv]
    env = None if prefix.path is None else wine.wine_env(prefix.path)
    try:
        proc = subprocess.Popen(command, env=env, stdout=sys.stderr)  # drvtape's stdout: the sessions only
    except OSError as e:
        raise DrvtapeError(f"cannot run {argv[0]}: {e.strerror or e}") from None
    try:
        signals.waiting = True
        if signals.caught is not None:  # while it was being started
            raise KeyboardInterrupt(signals.caught.name)
        run.exit_code = proc.wait()
    except KeyboardInterrupt:
        signals.waiting = False
        run.interrupted = signals.caught.name
        _stop(proc, signals.caught)
    finally:
        signals.waiting = False


def read_tapes(folder: Path) -> list[Tape]:
    return [read_tape(path) for path in sorted(folder.glob("*.drvtape")) if path.stat().st_size > 0]


def tap_run(pairs: Sequence[tuple[str, str]], argv: Sequence[str], prefix: Prefix,
            tap: str | None = None) -> TapRun:
    """Install a tap for each (alias, real DLL), run ARGV, uninstall; the tapes read."""
    if not pairs:
        raise DrvtapeError("give at least one --alias ALIAS --real DLL pair")
    if not argv:
        raise DrvtapeError("no program to run: put it after --, e.g. -- client.exe ARGS")
    run = TapRun(prefix, folder=Path(tempfile.mkdtemp(prefix="drvtape-taprun-")))
    with _prefix_in_use(prefix):
        _install_run_uninstall(pairs, argv, run, tap)
    run.tapes = read_tapes(run.folder)
    return run


@contextmanager
def _prefix_in_use(prefix: Prefix) -> Iterator[None]:
    """PREFIX is the one tapinstall installs in for its arch, while the run lasts."""
    name = wine.PREFIX_ENV_X86 if prefix.arch is X86 else wine.PREFIX_ENV
    saved = os.environ.get(name)
    if prefix.path is not None:
        os.environ[name] = str(prefix.path)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _install_run_uninstall(pairs: Sequence[tuple[str, str]], argv: Sequence[str], run: TapRun,
                           tap: str | None) -> None:
    installed: list[str] = []
    with Signals().handled() as signals:
        try:
            for alias, real in pairs:
                tape = run.folder / f"{state_folder(alias, run.prefix.arch).name}.drvtape"
                install(alias, real, tap=tap, tape=str(tape))
                installed.append(alias)
            run_program(argv, run.prefix, run, signals)
        finally:
            _uninstall_all(installed, run.prefix.arch)


def _uninstall_all(installed: list[str], arch: Arch) -> None:
    failed = []
    for alias in installed:
        try:
            uninstall(alias, arch=arch)
        except DrvtapeError as e:
            failed.append(str(e))
    if failed:
        raise DrvtapeError("; ".join(failed))
