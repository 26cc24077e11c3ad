"""Workloads: what an application does to a driver, as a TOML file of [[steps]], recorded
under the hook. docs/workloads.md describes the format."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drvtape.errors import DrvtapeError
from drvtape.recorder.ending import close_after
from drvtape.recorder.hook import Durability, Recorder
from drvtape.recorder.steps import Step, step_runner
from drvtape.recorder.tapped import record_through_tap
from drvtape.runtime.schedule import Threads, Unit, run_schedule
from drvtape.runtime.system import DriverSystem
from drvtape.runtime.targets import Target
from drvtape.schema.events import Ending, EndReason
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN, message_name, pointer_kind
from drvtape.schema.payloads import WideString, admits

class Workload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[Step] = Field(min_length=1)


@dataclass(frozen=True)
class RecordedWorkload:
    session_id: str
    ending: Ending
    notes: tuple[str, ...] = ()  # through the tap: why the run stopped early, what the tape lost


def load_workload(path: str | Path) -> Workload:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DrvtapeError(f"cannot read workload {path}: {exc}") from None
    return parse_workload(text, str(path))


def parse_workload(text: str, source: str) -> Workload:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DrvtapeError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        raise DrvtapeError(f"{source}: invalid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer of more digits than int() converts
        raise DrvtapeError(f"{source}: invalid TOML: {str(exc).split(';')[0]}") from None
    try:
        workload = Workload.model_validate(data)
    except ValidationError as exc:
        raise DrvtapeError(f"{source}: {_where(exc, text)}") from None
    except DrvtapeError as exc:
        raise DrvtapeError(f"{source}: {exc}") from None
    _check_order(workload, text, source)
    return workload


def _step_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[steps]]")]


def _where(exc: ValidationError, text: str) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        lines = _step_lines(text)
        line = f"line {lines[loc[1]]}: " if loc[1] < len(lines) else ""
        field = ".".join(str(p) for p in loc[2:] if not str(p).startswith(("int", "str")))
        return f"{line}step {loc[1] + 1}{': ' + field if field else ''}: {message}"
    return f"{'.'.join(str(p) for p in loc) or 'workload'}: {message}"


_MESSAGE_OF = {"open": DRV_OPEN, "close": DRV_CLOSE}  # the message a step's lparam1/lparam2 go with
_A_STRING = WideString(text="")


def _check_strings(step: Step, bad: Callable[[str], None]) -> None:
    """A string goes as a wide-string pointer: only where the catalog allows one."""
    msg = _MESSAGE_OF.get(step.action, step.msg)
    for n, value in ((1, step.lparam1), (2, step.lparam2)):
        kind = pointer_kind(msg, n) if msg is not None else None
        if isinstance(value, str) and not admits(kind, _A_STRING):
            bad(f"lparam{n}: {message_name(msg)}'s lParam{n} points to {kind.value} data, not a string")


def _check_order(workload: Workload, text: str, source: str) -> None:
    """The steps make sense in file order: instances opened before use, nothing after exit."""
    lines = _step_lines(text)
    opened: set[str] = set()
    for i, step in enumerate(workload.steps):
        where = f"{source}: {'line ' + str(lines[i]) + ': ' if i < len(lines) else ''}step {i + 1} ({step.action})"

        def bad(why: str):
            raise DrvtapeError(f"{where}: {why}")

        if step.action == "exit" and i != len(workload.steps) - 1:
            bad("exit ends the process: it must be the last step")
        if (step.msg is None) == (step.action == "send"):
            bad("'msg' is required for send" if step.action == "send" else "'msg' goes only with send")
        if step.action in ("open", "send", "close") and step.instance is None:
            bad("'instance' is required")
        if step.action == "exit" and step.instance is not None:
            bad("exit takes no instance")
        _check_strings(step, bad)
        if step.action == "open":
            if step.instance in opened:
                bad(f"instance {step.instance!r} is already open")
            opened.add(step.instance)
        elif step.instance is not None and step.instance not in opened:
            bad(f"instance {step.instance!r} is not open here (open it in an earlier step)")
        elif step.action == "close":
            opened.discard(step.instance)


def record_workload(workload: Workload, target: Target, db, *, threads: Threads = Threads.FAITHFUL,
                    timeout: float = 5.0, durability: Durability = Durability.BATCHED) -> RecordedWorkload:
    """Run the workload against a fresh driver and store the session: under the hook in this
    process (sim:, py:), or through the tap in a drvhost process (dll:, recorder/tapped.py)."""
    if not target.in_process:
        return RecordedWorkload(*record_through_tap(workload.steps, target, db, threads=threads, timeout=timeout,
                                                    durability=durability))
    running = target.start()
    recorder = Recorder(db, driver=target.spec, target=target.spec, source="workload", durability=durability)
    system = DriverSystem(recorder.wrap(running.proc))
    units = [Unit(step.thread, step_runner(system, step, n, recorder.mark), n)
             for n, step in enumerate(workload.steps, 1)]
    done = run_schedule(units, running.coordinator, threads=threads, cooperative=running.cooperative,
                        timeout=timeout)
    ending = close_after(done, recorder, hung=lambda unit: f"step {unit.label} never returned")
    if ending.reason is EndReason.UNKNOWN:  # not the driver's failure: ours or the user's
        raise done.error
    return RecordedWorkload(str(recorder.session_id), ending)
