"""Protocol lint: the lifecycle of docs/domain.md as rules, checked while folding a session's rows.

Each rule is data (id, severity, a one-line why, its check). A call check sees one call and
the driver's state just before it (drvtape.analysis.state.Projection); an end check sees the
state after the last event. Checks yield (seq, detail, related seqs).

Severity says whose doing it is. An error shows a driver bug or a recording no correct system
makes: a fault, a hang, a message after DRV_FREE, a message the driver never gave an id for.
A warning is a sequence the system legitimately sends (the Windows shutdown order, Wine's
silence at process exit) and says what the driver must survive there: a correct driver
(sim:reference) gets warnings only.

The call checks read DriverProc's calls: a device entry point's messages (wodMessage ...)
reuse DRV_* numbers for other meanings, and only open and close devices (state.Projection).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from drvtape.analysis.state import CallInFlight, Projection
from drvtape.errors import DrvtapeError
from drvtape.present.text import exception_code, fault_place
from drvtape.schema import details
from drvtape.schema import messages as m
from drvtape.schema.entry_points import DEVICE_CLOSE
from drvtape.schema.events import EndReason
from drvtape.schema.memory import catalog
from drvtape.schema.memory.classes import ENTRY_POINT_CLASSES, DriverClass, InstanceClasses
from drvtape.schema.messages import describe
from drvtape.schema.rows import Kind


class Severity(StrEnum):
    ERROR = "error"  # breaks drivers, or cannot come from a correct system: look at it
    WARNING = "warning"  # Windows really sends it; a driver must be ready for it


Hit = tuple[int, str, tuple[int, ...]]  # seq, detail, related seqs


@dataclass(frozen=True)
class CallNames:
    """A call's message name by the class of the instance it went to (ICM_DECOMPRESS, not DRV_USER+13)."""

    classes: InstanceClasses

    def of(self, call: CallInFlight) -> str:
        """By its entry point's class for a device entry point's call, else by its instance's."""
        return catalog.message_name(call.msg, self.classes.of_call(call.seq, call.driver_id, call.entry_point))


@dataclass(frozen=True)
class NamedCall(CallInFlight):
    """The call a check sees, with the names of the session's calls."""

    names: CallNames = CallNames(InstanceClasses())

    @property
    def name(self) -> str:
        return self.names.of(self)


@dataclass(frozen=True)
class SessionEnd:
    reason: str | None  # the end event's reason; None when the session has no end (still recording)
    call_seq: int | None  # the call the end names (the hang, the crash)
    faults: dict[int, dict]  # call seq -> the fault's detail
    names: CallNames = CallNames(InstanceClasses())


def _instances(p: Projection) -> str:
    return ", ".join(f"0x{i.driver_id:X} (hdrvr 0x{i.hdrvr:X}, opened at seq {i.seq})" for i in p.instances.values())


def _opened(p: Projection) -> tuple[int, ...]:
    return tuple(i.seq for i in p.instances.values())


# ---- call checks: each docstring names the fact of domain.md it comes from -------------------


def _open_before_load(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md, the lifecycle: the first OpenDriver sends DRV_LOAD, DRV_ENABLE, DRV_OPEN. A
    DRV_OPEN to a driver not loaded and enabled runs instance code before the driver's
    initialization; no correct system sends it (a recording that starts mid-session shows it
    too, and cannot be replayed faithfully). After DRV_FREE, message-after-free reports it."""
    if call.msg == m.DRV_OPEN and not p.freed and not (p.loaded and p.enabled):
        yield call.seq, f"DRV_OPEN with no successful {'DRV_ENABLE' if p.loaded else 'DRV_LOAD'} before it", ()


def _unaddressed(p: Projection, call: CallInFlight) -> bool:
    """A per-instance message (not DRV_OPEN) to a driver not freed that reaches no open instance."""
    return (call.msg != m.DRV_OPEN and describe(call.msg).per_instance and not p.freed
            and p.instance_for(call.driver_id, call.hdrvr) is None)


def _message_to_unopened_instance(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md: dwDriverId is 0 until DRV_OPEN returns, then the value DRV_OPEN returned. A
    per-instance message whose handle and id name no open instance (never opened, refused, or
    still opening on another thread) hands the driver an id it never gave out; drivers that
    treat the id as a pointer crash on it (domain-facts.md: msrle32, iccvid, msvidc32)."""
    if _unaddressed(p, call) and call.hdrvr not in p.closed:
        yield call.seq, (f"{call.name} to dwDriverId 0x{call.driver_id:X}, hdrvr 0x{call.hdrvr:X}: "
                         "no open instance has them"), ()


def _message_to_closed_instance(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md: DRV_OPEN, DRV_CLOSE and everything between concern one instance. A message to
    the instance after its DRV_CLOSE reaches memory the driver released: a use after free."""
    if _unaddressed(p, call) and call.hdrvr in p.closed:
        closed = p.closed[call.hdrvr]
        yield call.seq, f"{call.name} to hdrvr 0x{call.hdrvr:X}, closed at seq {closed}", (closed,)


def _disable_with_open_instances(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md, shutdown bug 3: DRV_DISABLE/DRV_FREE while instances are open. Windows ending
    sends it (after DRV_EXITSESSION), and so does drvtape's `shutdown` action: a warning. The
    driver must release each open instance's memory once, in DRV_FREE, without assuming those
    instances got DRV_CLOSE; a driver that frees them twice or walks a freed list faults here,
    and that fault is call-without-return's error."""
    if call.msg in (m.DRV_DISABLE, m.DRV_FREE) and p.instances:
        yield call.seq, (f"{call.name} with {len(p.instances)} instance(s) open: "
                         f"{_instances(p)}"), _opened(p)


def _message_after_free(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md: after DRV_FREE the DLL is unloaded (shutdown bug 6). Anything but a new
    DRV_LOAD after it runs code in a driver that has torn itself down. The DRV_CLOSE of an
    instance the shutdown left open is close-after-shutdown's."""
    if p.freed and call.msg != m.DRV_LOAD and not _closes_a_shutdown_leftover(p, call):
        yield call.seq, f"{call.name} after DRV_FREE with no DRV_LOAD since", ()


def _closes_a_shutdown_leftover(p: Projection, call: CallInFlight) -> bool:
    return call.msg == m.DRV_CLOSE and p.instance_for(call.driver_id, call.hdrvr) is not None


def _close_after_shutdown(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md, the lifecycle: instances open when Windows ends get DRV_DISABLE and DRV_FREE
    and "may never get DRV_CLOSE"; the application's own CloseDriver of such an instance can
    still come after them (drvtape's `shutdown` action, then a `close`). A warning: the
    driver must answer it having already released that instance in DRV_FREE, freeing nothing
    twice."""
    if p.freed and _closes_a_shutdown_leftover(p, call):
        inst = p.instance_for(call.driver_id, call.hdrvr)
        yield call.seq, f"DRV_CLOSE of 0x{inst.driver_id:X} (opened at seq {inst.seq}) after DRV_FREE", (inst.seq,)


def _exitsession_with_open_instance(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md: Windows ending sends DRV_EXITSESSION (per instance, domain-facts.md); instances
    open then may never get DRV_CLOSE, DRV_DISABLE and DRV_FREE follow. A warning: this is the
    normal shutdown sequence, not a fault; it marks the sessions whose driver had to survive
    the situation of shutdown bugs 2 and 3."""
    if call.msg == m.DRV_EXITSESSION and p.instances:
        yield call.seq, f"DRV_EXITSESSION with {len(p.instances)} instance(s) open: {_instances(p)}", _opened(p)


def _exitsession_with_calls_in_flight(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md, shutdown bug 1: DRV_EXITSESSION while another call (a DRV_OPEN on another
    thread) has not returned. A driver that waits in DRV_EXITSESSION for it (the DDK wave
    sample's Yield loop) hangs logoff: an error."""
    if call.msg == m.DRV_EXITSESSION and p.in_flight:
        others = ", ".join(f"{call.names.of(c)} at seq {c.seq}" for c in p.in_flight.values())
        yield call.seq, f"DRV_EXITSESSION while {others} had not returned", tuple(p.in_flight)


def _close_on_other_thread(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """domain.md, shutdown bug 4: an instance opened on one thread and closed (at shutdown,
    typically) on another. Legal, hence a warning, but a driver keeping per-instance state in
    thread-local storage fails here."""
    inst = p.instance_for(call.driver_id, call.hdrvr) if call.msg == m.DRV_CLOSE else None
    if inst is not None and inst.thread != call.thread:
        yield call.seq, (f"DRV_CLOSE of 0x{inst.driver_id:X} on another thread than its DRV_OPEN "
                         f"(seq {inst.seq})"), (inst.seq,)


def _free_with_open_device(p: Projection, call: CallInFlight) -> Iterator[Hit]:
    """A device opened through a device entry point (WODM_OPEN ...) whose close (WODM_CLOSE
    ...) never came before DRV_FREE: the driver is unloaded with the device's state, and
    perhaps its buffers and callbacks, alive. A warning, as for instances (a system ending
    the process unloads the driver so); the driver must release the device in DRV_FREE."""
    if call.msg == m.DRV_FREE and p.devices:
        for d in p.devices.values():
            close = catalog.message_name(DEVICE_CLOSE[d.entry_point], ENTRY_POINT_CLASSES[d.entry_point])
            yield call.seq, (f"DRV_FREE with {d.entry_point.value} device {d.device} open (instance "
                             f"0x{d.instance:X}, opened at seq {d.seq}): no {close} came"), (d.seq,)


# ---- end checks ------------------------------------------------------------------------------


def _session_ends_with_open_instances(p: Projection, end: SessionEnd) -> Iterator[Hit]:
    """domain.md, Wine's winmm: a process that exits with instances open sends nothing more (no
    DRV_CLOSE, DRV_DISABLE or DRV_FREE), only DllMain's DLL_PROCESS_DETACH. A warning: a real
    system does this at process exit, but the driver's detach must release what those messages
    would have. Not reported after DRV_FREE: disable-with-open-instances has it already."""
    if p.instances and not p.freed:
        how = f"ends ({end.reason})" if end.reason else "has no end yet"
        yield p.at, f"the session {how} with {len(p.instances)} instance(s) open: {_instances(p)}", _opened(p)


def _call_without_return(p: Projection, end: SessionEnd) -> Iterator[Hit]:
    """docs/events.md: a call with no return is a crash or a hang inside the driver.
    Each is reported, the one the session's end names too: that hang or crash is the finding."""
    for seq in sorted([*p.in_flight, *end.faults]):
        fault = end.faults.get(seq)
        if fault is not None:
            place = fault_place(fault.get("module"), fault.get("offset")) or "?"
            detail = f"{fault['name']} faulted: {exception_code(fault['code'])} in {place}"
        elif seq == end.call_seq and end.reason == EndReason.HANG:
            detail = f"{end.names.of(p.in_flight[seq])} never returned: the session ended as a hang here"
        else:
            ended = f"ended ({end.reason})" if end.reason else "stopped"
            detail = f"{end.names.of(p.in_flight[seq])} had no return when the session {ended}"
        yield seq, detail, ()


# ---- the rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    why: str  # one line
    check: Callable[..., Iterator[Hit]]
    at_end: bool = False  # checked once, on the state after the last event


RULES: tuple[Rule, ...] = (
    Rule("open-before-load", Severity.ERROR, "DRV_OPEN before a successful DRV_LOAD and DRV_ENABLE", _open_before_load),
    Rule("message-to-unopened-instance", Severity.ERROR, "a message to an instance never opened (or refused)",
         _message_to_unopened_instance),
    Rule("message-to-closed-instance", Severity.ERROR, "a message to an instance after its DRV_CLOSE",
         _message_to_closed_instance),
    Rule("disable-with-open-instances", Severity.WARNING, "DRV_DISABLE or DRV_FREE while instances are open",
         _disable_with_open_instances),
    Rule("message-after-free", Severity.ERROR, "a message after DRV_FREE with no new DRV_LOAD", _message_after_free),
    Rule("close-after-shutdown", Severity.WARNING, "DRV_CLOSE, after DRV_FREE, of an instance open at the DRV_FREE",
         _close_after_shutdown),
    Rule("exitsession-with-open-instance", Severity.WARNING,
         "DRV_EXITSESSION with instances open: they may never get DRV_CLOSE", _exitsession_with_open_instance),
    Rule("exitsession-with-calls-in-flight", Severity.ERROR, "DRV_EXITSESSION while another call has not returned",
         _exitsession_with_calls_in_flight),
    Rule("close-on-other-thread", Severity.WARNING, "DRV_CLOSE on another thread than the instance's DRV_OPEN",
         _close_on_other_thread),
    Rule("free-with-open-device", Severity.WARNING, "DRV_FREE while a device (WODM_OPEN ...) was never closed",
         _free_with_open_device),
    Rule("session-ends-with-open-instances", Severity.WARNING,
         "the session ends with instances open, the driver not freed",
         _session_ends_with_open_instances, at_end=True),
    Rule("call-without-return", Severity.ERROR, "a call that never returned: a fault or a hang", _call_without_return,
         at_end=True),
)
RULES_BY_ID = {r.id: r for r in RULES}


@dataclass(frozen=True)
class Finding:
    rule: Rule
    seq: int  # where it fires
    detail: str
    related: tuple[int, ...] = ()  # seqs that explain it: an instance's DRV_OPEN, its DRV_CLOSE ...


def select_rules(ids: list[str] | None) -> tuple[Rule, ...]:
    """The rules named (all of them when none are); an unknown id is bad input."""
    unknown = [i for i in ids or () if i not in RULES_BY_ID]
    if unknown:
        raise DrvtapeError(f"unknown lint rule {unknown[0]!r}: 'drvtape lint --rules' lists them")
    return tuple(RULES_BY_ID[i] for i in dict.fromkeys(ids)) if ids else RULES


def lint_rows(rows, rules: tuple[Rule, ...] = RULES, hint: DriverClass = DriverClass.DRV) -> list[Finding]:
    """The findings in a session's rows (ROW_COLUMNS order, seq order), ordered by seq; messages
    named by their instance's class (hint: the class the session's driver alias implies)."""
    rows = list(rows)
    names = CallNames(InstanceClasses.from_rows(rows, hint))
    p = Projection()
    findings: list[Finding] = []
    faults: dict[int, dict] = {}
    reason = end_call = None
    on_call = [r for r in rules if not r.at_end]
    for row in rows:
        seq, kind, _ts, thread, msg, driver_id, hdrvr, *_, call_seq, depth, _dur, payload, entry_point = row
        if kind == Kind.CALL and entry_point is None:  # DriverProc's (see the module's docstring)
            call = NamedCall(seq, msg, thread, depth or 0, driver_id, hdrvr, names=names)
            findings += [Finding(r, *hit) for r in on_call for hit in r.check(p, call)]
        elif kind == Kind.FAULT:
            name = names.of(CallInFlight(call_seq, msg, thread, 0, driver_id, hdrvr))
            faults[call_seq] = {**details.decode_fault(payload)._asdict(), "msg": msg, "name": name}
        elif kind == Kind.END:
            reason, end_call = details.decode_end(payload).reason.value, call_seq
        p.apply(row)
    end = SessionEnd(reason, end_call, faults, names)
    findings += [Finding(r, *hit) for r in rules if r.at_end for hit in r.check(p, end)]
    return sorted(findings, key=lambda f: f.seq)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.rule.severity is Severity.ERROR for f in findings)
