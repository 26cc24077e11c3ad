"""Recording a workload against a real driver DLL: drvhost loads the tap (native/drvtap) with
the DLL behind it, so the session is what the tap writes on a target machine (its thread
ids, QPC timestamps, faults), ingested as `drvtape ingest` would.

drvhost runs a fixed batch of calls, so the workload is planned first: its steps run in
file order through the same DriverSystem as in-process recording, against a stand-in that
accepts every DRV_LOAD and DRV_OPEN, and each message it is sent becomes a call on the
step's thread. drvhost then issues them by the workload's rule (a call once every earlier
one has been issued and its thread's previous one has returned: docs/workloads.md), each
instance's calls carrying the id its DRV_OPEN returned in this run. A DRV_OPEN the driver
refuses stops the run there (the in-process recorder would skip the steps on that
instance instead: a fixed batch cannot). After the last call the host frees the DLL, as
the system does after the last CloseDriver (the tap's END: the session ends `closed`), or
for an `exit` step exits with it loaded (`process-exit`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from drvtape.dllhost import host_available, wine
from drvtape.dllhost.build import build_drvtap_for
from drvtape.dllhost.client import dll_arch, run_host
from drvtape.errors import DrvtapeError
from drvtape.formats.host_calls import HostCall, HostResult
from drvtape.formats.host_protocol import HostEnd
from drvtape.recorder.hook import Durability
from drvtape.recorder.ingest import TapeSession, read_tape
from drvtape.recorder.steps import Step, step_runner
from drvtape.runtime.schedule import StopRun, Threads
from drvtape.runtime.system import DriverSystem
from drvtape.runtime.targets import Target
from drvtape.schema.events import Ending
from drvtape.schema.messages import DRV_LOAD, DRV_OPEN, message_name
from drvtape.schema.outcome import OutcomeKind
from drvtape.store import opened
from drvtape.store.recovery import end_orphaned_sessions

ACCEPTED = 1  # what the stand-in answers DRV_LOAD, and the expect that makes drvhost stop at a refused DRV_OPEN


class WorkloadPlan:
    """The calls a workload's steps send, collected from a DriverSystem whose driver is this stand-in."""

    def __init__(self, threads: Threads):
        self.threads = threads
        self.calls: list[HostCall] = []
        self.step_of: list[int] = []  # the step number of each call
        self.exits = False
        self._thread_index: dict[str, int] = {}
        self._step = (0, 0)  # (number, thread index) of the step being planned
        self._open_of: dict[int, int] = {}  # stand-in instance id -> index of its DRV_OPEN

    def run(self, steps: Sequence[Step]) -> None:
        system = DriverSystem(self._proc)
        for number, step in enumerate(steps, 1):
            thread = 0 if self.threads is Threads.SERIAL else self._thread_index.setdefault(
                step.thread, len(self._thread_index))
            self._step = (number, thread)
            try:
                step_runner(system, step, number, skipped=_unused)()
            except StopRun:
                self.exits = True

    def _proc(self, driver_id: int, hdrvr: int, msg: int, lparam1, lparam2) -> int:
        index = len(self.calls)
        self.calls.append(HostCall(
            seq=index + 1, thread=self._step[1], driver_id=0, hdrvr=hdrvr, msg=msg,
            lparam1=lparam1 if isinstance(lparam1, int) else 0, lparam2=lparam2 if isinstance(lparam2, int) else 0,
            payload1=_wide(lparam1), payload2=_wide(lparam2), expect=ACCEPTED if msg == DRV_OPEN else None,
            id_from=self._open_of.get(driver_id)))
        self.step_of.append(self._step[0])
        if msg == DRV_OPEN:
            self._open_of[index + 1] = index  # the stand-in's instance id: unique, nonzero
            return index + 1
        return ACCEPTED if msg == DRV_LOAD else 0


def _wide(value) -> dict | None:
    return {"type": "wstr", "text": value} if isinstance(value, str) else None


def _unused(why: str) -> None:
    """A step is skipped only when its instance's open was refused: the stand-in refuses none."""


def plan_calls(steps: Sequence[Step], threads: Threads = Threads.FAITHFUL) -> WorkloadPlan:
    plan = WorkloadPlan(Threads(threads))
    plan.run(steps)
    return plan


def record_through_tap(steps: Sequence[Step], target: Target, db, *, threads: Threads = Threads.FAITHFUL,
                       timeout: float = 5.0, durability: Durability = Durability.BATCHED
                       ) -> tuple[str, Ending, tuple[str, ...]]:
    """Run the steps against target's DLL through the tap in drvhost, and store the session.
    The session's id, its ending, and notes: why the run stopped before the last step, what
    the tape reader found (a payload cut at the tap's cap)."""
    real = Path(target.name)  # parse_target saw the file
    plan = plan_calls(steps, threads)
    arch = dll_arch(str(real))  # the tap loads the real driver: it is built for the same one
    host_available(arch)
    tap = build_drvtap_for(real, arch)
    with tempfile.TemporaryDirectory(prefix="drvtape-record-") as folder:
        tape = Path(folder) / "workload.drvtape"
        env = {"DRVTAP_REAL": wine.windows_path(str(real)), "DRVTAP_TAPE": wine.windows_path(str(tape)),
               "DRVTAP_FLUSH": "every" if Durability(durability) is Durability.MACHINE else ""}
        run = run_host(str(tap), plan.calls, timeout_s=timeout, end=HostEnd.EXIT if plan.exits else HostEnd.UNLOAD,
                       env_extra=env)
        hung = any(r.kind is OutcomeKind.HANG for r in run.results)
        if not tape.is_file():
            raise DrvtapeError(f"the tap wrote no tape for {real} (was DriverProc ever called?)")
        read = read_tape(tape, unfinished="hang" if hung else "unknown")
    (session,) = read.sessions  # one process, one session
    _store(db, session)
    end = session.end
    stopped = _stopped_early(plan, run.results)
    notes = ([stopped] if stopped else []) + [f"the tape: {p.detail}" for p in read.problems]
    return str(session.header.id), Ending(end.reason, end.call_seq, end.detail), tuple(notes)


def _store(db, session: TapeSession) -> None:
    header = session.header.model_copy(update={"source": "workload"})  # the tap's session of a workload
    with opened(db, create=True) as store:
        end_orphaned_sessions(store)
        store.import_sessions([(header, session.events)])


def _stopped_early(plan: WorkloadPlan, results: list[HostResult]) -> str | None:
    """Why the host stopped before the last call when a DRV_OPEN was refused (None otherwise)."""
    refused = next((r for r in results if r.returned and r.result == 0 and plan.calls[r.seq - 1].msg == DRV_OPEN),
                   None)
    if refused is None or len(results) == len(plan.calls):
        return None
    return (f"step {plan.step_of[refused.seq - 1]}'s {message_name(DRV_OPEN)} returned 0 (refused): the run "
            f"stopped there, and the {len(plan.calls) - len(results)} message(s) after it were not sent")
