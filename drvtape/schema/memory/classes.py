"""The class of a driver instance: which catalog its messages belong to. The same message
number means ICM_* to a VfW codec and ACMDM_* to an ACM codec, so a message is named and
its memory known only once its instance's class is.

The class comes from what DRV_OPEN received (ICOPEN.fccType 'vidc' or 'vids': VfW;
ACMDRVOPENDESCW.fccType 'audc': ACM; an MCI_OPEN_DRIVER_PARMS: MCI), else from the alias
the driver was installed under (vidc.*, vids.*: VfW; msacm.*: ACM; an MCI device type of
the MCI32 key and system.ini's [mci], such as waveaudio: MCI), else DRV: only DRV_* is known.

An MCI_OPEN_DRIVER_PARMS has no size or FOURCC to tell it by: winmm sets its wDeviceID (a
device id from 1 up, below 0x10000) and lpstrParams, and leaves the rest for the driver to
fill. The tap copies the struct's bytes (sizeof it, for the tape's arch: 16 on x86, 20 on
x64) for such a DRV_OPEN; those bytes with a wDeviceID in 1..0xFFFF make an MCI instance
(native/drvtap/memory_capture.c tells it the same way).

A call to a device entry point (wodMessage ...) has its entry point's class, whatever the
instance: DriverProc's DRV_OPEN and DRV_CLOSE are the only messages that open and close.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import CallEvent, Event, ReturnEvent
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.payloads import AcmDrvOpenDescW, CallPayloads, IcOpen, RawBytes
from drvtape.schema.rows import EventRow, Kind, row_to_event


class DriverClass(str, Enum):
    DRV = "drv"  # any installable driver: DRV_* only
    VFW = "vfw"  # a VfW codec: ICM_*
    ACM = "acm"  # an ACM codec: ACMDM_*
    WAVEOUT = "waveout"  # wodMessage: WODM_*
    WAVEIN = "wavein"  # widMessage: WIDM_*
    MIDIOUT = "midiout"  # modMessage: MODM_*
    MIDIIN = "midiin"  # midMessage: MIDM_*
    MIXER = "mixer"  # mxdMessage: MXDM_*
    AUX = "aux"  # auxMessage: AUXDM_*
    MCI = "mci"  # an MCI driver: MCI_*


ENTRY_POINT_CLASSES = {EntryPoint.WOD: DriverClass.WAVEOUT, EntryPoint.WID: DriverClass.WAVEIN,
                       EntryPoint.MOD: DriverClass.MIDIOUT, EntryPoint.MID: DriverClass.MIDIIN,
                       EntryPoint.MXD: DriverClass.MIXER, EntryPoint.AUX: DriverClass.AUX}


def fourcc(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "little")


VFW_TYPES = {fourcc("vidc"), fourcc("vids")}
ACM_TYPES = {fourcc("audc")}
ALIAS_PREFIXES = (("vidc.", DriverClass.VFW), ("vids.", DriverClass.VFW), ("msacm.", DriverClass.ACM))
# The MCI device types a Wine 8.0 prefix names in its MCI32 key and system.ini's [mci]
MCI_DEVICE_TYPES = frozenset({
    "waveaudio", "sequencer", "avivideo", "cdaudio", "mpegvideo", "mpegvideo2", "vcr", "videodisc",
})
MCI_OPEN_DRIVER_PARMS_SIZES = (16, 20)  # x86, x64 (pshpack1) (tests/native/test_memcatalog_compile.py)
MAX_MCI_DEVICE_ID = 0xFFFF


class OpenCall(Protocol):
    """What class detection reads of a recorded call (schema.recording.RecordedCall has it)."""

    seq: int
    msg: int
    driver_id: int
    payload: CallPayloads | None
    result: int | None
    returned_at: int | None
    # entry_point: EntryPoint, when it has one (a call without one is DriverProc's)


def class_of_open(payload: CallPayloads | None) -> DriverClass | None:
    """The class DRV_OPEN's lParam2 tells, or None when it tells none."""
    data = payload.lparam2 if payload is not None else None
    if isinstance(data, IcOpen) and data.fccType in VFW_TYPES:
        return DriverClass.VFW
    if isinstance(data, AcmDrvOpenDescW) and data.fccType in ACM_TYPES:
        return DriverClass.ACM
    if isinstance(data, RawBytes) and is_mci_open(bytes.fromhex(data.hex)):
        return DriverClass.MCI
    return None


def is_mci_open(data: bytes) -> bool:
    """Whether DRV_OPEN's copied lParam2 is an MCI_OPEN_DRIVER_PARMS winmm filled (no ICOPEN
    or ACMDRVOPENDESCW FOURCC after its first DWORD)."""
    head = int.from_bytes(data[4:8], "little")
    return (len(data) in MCI_OPEN_DRIVER_PARMS_SIZES and head not in VFW_TYPES | ACM_TYPES
            and 1 <= int.from_bytes(data[:4], "little") <= MAX_MCI_DEVICE_ID)


def session_class_hint(driver: str | None) -> DriverClass:
    """The class an alias (vidc.MRLE, msacm.imaadpcm, waveaudio) implies; DRV for a path or a
    name with no class prefix."""
    name = (driver or "").strip().lower()
    if name in MCI_DEVICE_TYPES:
        return DriverClass.MCI
    for prefix, cls in ALIAS_PREFIXES:
        if name.startswith(prefix):
            return cls
    return DriverClass.DRV


@dataclass
class InstanceClasses:
    """The class of each instance over a session: an instance has its class from the return
    of the DRV_OPEN that gave it its driver_id up to its DRV_CLOSE, or to just before a later
    DRV_OPEN returned the same id (as drvtape.store.instance_sql has it). The id is the
    driver's own: returning it again, the driver reused it, so the earlier instance ends there
    and is not what the id means once the later one closes. Outside those spans (driver_id 0,
    before DRV_OPEN, after DRV_CLOSE) a call is DRV."""

    spans: dict[int, list[tuple[int, int, DriverClass]]] = field(default_factory=dict)  # id -> (from, to, cls)

    def opened(self, seq: int, driver_id: int, cls: DriverClass) -> None:
        spans = self.spans.setdefault(driver_id, [])
        if spans and spans[-1][1] == UNCLOSED and spans[-1][0] < seq:
            spans[-1] = (spans[-1][0], seq - 1, spans[-1][2])
        spans.append((seq, UNCLOSED, cls))

    def closed(self, seq: int, driver_id: int) -> None:
        spans = self.spans.get(driver_id)
        if spans and spans[-1][1] == UNCLOSED and spans[-1][0] <= seq:
            spans[-1] = (spans[-1][0], seq, spans[-1][2])

    def of_call(self, seq: int, driver_id: int, entry_point: EntryPoint) -> DriverClass:
        """The class of a call: its entry point's, or for DriverProc its instance's (see at)."""
        return ENTRY_POINT_CLASSES.get(entry_point) or self.at(seq, driver_id)

    def at(self, seq: int, driver_id: int) -> DriverClass:
        for start, end, cls in reversed(self.spans.get(driver_id, ()) if driver_id else ()):
            if start <= seq <= end:
                return cls
        return DriverClass.DRV

    def classes(self) -> set[DriverClass]:
        """The classes of the session's instances."""
        return {cls for spans in self.spans.values() for _, _, cls in spans}

    @classmethod
    def from_calls(cls, calls: Iterable[OpenCall], hint: DriverClass = DriverClass.DRV) -> InstanceClasses:
        """From a recording's calls (RecordedCall: seq, result, returned_at), in the order of the
        events that open and close: a DRV_OPEN's return (which may come after later calls on
        other threads), a DRV_CLOSE's call."""
        marks: list[tuple[int, int, DriverClass | None]] = []  # (seq, driver_id, class opened; None: closed)
        for call in calls:
            if entry_point_of_call(call) is not EntryPoint.DRIVER_PROC:
                continue
            if call.msg == DRV_OPEN and call.result:
                marks.append((call.returned_at or call.seq, call.result, class_of_open(call.payload) or hint))
            elif call.msg == DRV_CLOSE:
                marks.append((call.seq, call.driver_id, None))
        classes = cls()
        for seq, driver_id, opened_as in sorted(marks, key=lambda mark: mark[0]):
            if opened_as is None:
                classes.closed(seq, driver_id)
            else:
                classes.opened(seq, driver_id, opened_as)
        return classes

    @classmethod
    def from_events(cls, events: Iterable[Event], hint: DriverClass = DriverClass.DRV) -> InstanceClasses:
        """From a session's DRV_OPEN and DRV_CLOSE call and return events, in seq order."""
        classes, opens = cls(), {}
        for ev in events:
            if not isinstance(ev, (CallEvent, ReturnEvent)) or ev.entry_point is not EntryPoint.DRIVER_PROC:
                continue
            if isinstance(ev, CallEvent) and ev.msg == DRV_OPEN:
                opens[ev.seq] = ev.payload
            elif isinstance(ev, ReturnEvent) and ev.msg == DRV_OPEN and ev.result and ev.call_seq in opens:
                classes.opened(ev.seq, ev.result, class_of_open(opens[ev.call_seq]) or hint)
            elif isinstance(ev, CallEvent) and ev.msg == DRV_CLOSE:
                classes.closed(ev.seq, ev.driver_id)
        return classes

    @classmethod
    def from_rows(cls, rows: Iterable[EventRow], hint: DriverClass = DriverClass.DRV) -> InstanceClasses:
        """From a session's stored rows (schema.rows order), all or only its opens and closes."""
        return cls.from_events((row_to_event(r) for r in rows if r.msg in (DRV_OPEN, DRV_CLOSE)
                                and r.kind in (Kind.CALL, Kind.RETURN) and r.entry_point is None), hint)


UNCLOSED = 1 << 63


def entry_point_of_call(call: OpenCall) -> EntryPoint:
    return getattr(call, "entry_point", EntryPoint.DRIVER_PROC)


def call_classes(calls: Iterable[OpenCall], hint: DriverClass = DriverClass.DRV) -> list[DriverClass]:
    """The class of each call's instance, in order."""
    calls = list(calls)
    classes = InstanceClasses.from_calls(calls, hint)
    return [classes.of_call(c.seq, c.driver_id, entry_point_of_call(c)) for c in calls]


def instance_classes(calls: Iterable[OpenCall], hint: DriverClass = DriverClass.DRV) -> dict[int, DriverClass]:
    """{driver_id returned by DRV_OPEN: class} (a reused id: its last instance's class)."""
    return {c.result: class_of_open(c.payload) or hint for c in calls
            if c.msg == DRV_OPEN and c.result and entry_point_of_call(c) is EntryPoint.DRIVER_PROC}
