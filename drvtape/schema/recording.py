"""A stored session as replay needs it: its top-level calls, the memory captured around
them, and how the recording ended."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from drvtape.errors import DrvtapeError
from drvtape.schema.events import EndReason, SessionHeader
from drvtape.schema import details
from drvtape.schema.entry_points import EntryPoint, entry_point_of
from drvtape.schema.memory.captured import MemoryBlock, Phase
from drvtape.schema.memory.classes import DriverClass, call_classes, session_class_hint
from drvtape.schema.outcome import COMPLETED, Outcome, OutcomeKind
from drvtape.schema.payloads import CallPayloads
from drvtape.schema.rows import Kind


@dataclass(frozen=True, slots=True)  # slots: a recording of a million calls holds a million of these
class RecordedCall:
    seq: int
    thread: int  # 0, 1, ...: recorded threads in order of first appearance
    msg: int
    driver_id: int
    hdrvr: int
    lparam1: int
    lparam2: int
    payload: CallPayloads | None
    result: int | None  # None: the call never returned in the recording
    returned_at: int | None = None  # seq of its RETURN event; None when it never returned
    memory_in: tuple[MemoryBlock, ...] = ()  # captured before the call: what the driver read
    memory_out: tuple[MemoryBlock, ...] = ()  # captured after it returned: what the driver wrote
    cls: DriverClass = DriverClass.DRV  # its instance's class: which catalog names the message
    entry_point: EntryPoint = EntryPoint.DRIVER_PROC  # drvtape.schema.entry_points
    # its RETURN's driver_id: for a device entry point's open, the instance the driver stored at dwUser
    returned_id: int | None = None


# sha256 keys -> the bytes stored under those of them that are stored (Store.blobs, or a dict's)
BlobLoader = Callable[[Iterable[str]], dict[str, bytes]]


_BLOBS_AHEAD = 64


def no_blobs(_keys: Iterable[str]) -> dict[str, bytes]:
    """The loader of a recording that holds no captured bytes."""
    return {}


def blobs_in(blobs: Mapping[str, bytes]) -> BlobLoader:
    """A loader of the blobs held in a mapping (a JSONL file's)."""
    return lambda keys: {k: blobs[k] for k in keys if k in blobs}


@dataclass(frozen=True)
class Recording:
    header: SessionHeader
    calls: list[RecordedCall]
    outcome: Outcome  # how the recording ended: completed, fault or hang
    load_blobs: BlobLoader = field(default=no_blobs, repr=False, compare=False)
    _blob_cache: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    _blob_order: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _blob_keys: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def threads(self) -> int:
        return len({c.thread for c in self.calls})

    @property
    def arch(self) -> str:
        """Whose struct layouts the captured memory has: "x64" or "x86"."""
        return (self.header.arch if self.header is not None else None) or "x64"

    def blob(self, sha256: str) -> bytes:
        """The captured bytes a block names (read once, then kept); DrvtapeError when the
        recording does not have them. A miss also reads the blobs the next calls name, in one
        query (replay asks for them in call order; one query per blob cost 5 ms each)."""
        data = self._blob_cache.get(sha256)
        if data is None:
            self._blob_cache.update(self.load_blobs(self._keys_from(sha256)))
            data = self._blob_cache.get(sha256)
            if data is None:
                raise DrvtapeError(f"session {self.header.id} has no captured bytes for blob {sha256[:16]}")
        return data

    def _keys_from(self, sha256: str) -> list[str]:
        """sha256, then the next keys not read yet in the order the calls name them."""
        if not self._blob_order:  # key -> the position of its first use
            self._blob_order.update((k, i) for i, k in enumerate(dict.fromkeys(
                b.sha256 for c in self.calls for b in (*c.memory_in, *c.memory_out))))
            self._blob_keys.extend(self._blob_order)
        start = self._blob_order.get(sha256, len(self._blob_keys))
        ahead = self._blob_keys[start + 1:start + _BLOBS_AHEAD]
        return [sha256, *(k for k in ahead if k not in self._blob_cache)]


def recording_from_rows(header: SessionHeader, rows: Iterable[tuple], load_blobs: BlobLoader = no_blobs) -> Recording:
    """The recording of a session's rows, read once (an iterator may read them a chunk at a time).

    A call is made once its return comes: only the calls in flight are held as lists of
    fields. Values that repeat from call to call (messages, instance ids, handles, results)
    are held once each: a million calls to a few instances name a few int objects."""
    threads: dict[int, int] = {}
    recorded: list = []  # RecordedCall in seq order; None where the return is still to come
    pending: dict[int, tuple[int, list]] = {}  # seq of a call in flight -> (its position, its fields)
    same: dict = {}
    outcome = COMPLETED
    for (seq, kind, _ts, thread, msg, driver_id, hdrvr, l1, l2, result, call_seq, depth, _dur, payload,
         entry_point) in rows:
        if kind == Kind.CALL:
            # Re-entrant calls (depth > 0) are made by the driver itself; replay sends only the outer ones.
            if depth == 0:
                lane = threads.setdefault(thread, len(threads))
                ep = _entry_point(seq, entry_point) if entry_point is not None else EntryPoint.DRIVER_PROC
                pending[seq] = (len(recorded), [
                    seq, lane, same.setdefault(msg, msg), same.setdefault(driver_id, driver_id),
                    same.setdefault(hdrvr, hdrvr), l1, l2, details.decode_call(payload), None, None,
                    details.decode_memory(payload, Phase.CALL), (), DriverClass.DRV, ep, None])
                recorded.append(None)
        elif kind == Kind.RETURN:
            entry = pending.pop(call_seq, None)
            if entry is not None:
                at, call = entry
                call[8:10] = same.setdefault(result, result), seq
                call[11] = details.decode_memory(payload, Phase.RETURN)
                call[14] = same.setdefault(driver_id, driver_id)
                recorded[at] = RecordedCall(*call)
        elif kind == Kind.FAULT and outcome is COMPLETED:
            fault = details.decode_fault(payload)
            outcome = Outcome(OutcomeKind.FAULT, seq=call_seq, msg=msg, code=fault.code, module=fault.module,
                              offset=fault.offset)
        elif kind == Kind.END and outcome is COMPLETED:
            if details.decode_end(payload).reason is EndReason.HANG and call_seq is not None:
                outcome = Outcome(OutcomeKind.HANG, seq=call_seq, msg=_msg_of(call_seq, pending, recorded))
    for at, call in pending.values():  # the calls that never returned
        recorded[at] = RecordedCall(*call)
    classes = call_classes(recorded, session_class_hint(header.driver))
    for i, cls in enumerate(classes):
        if cls is not DriverClass.DRV:
            recorded[i] = replace(recorded[i], cls=cls)
    return Recording(header, recorded, outcome, load_blobs)


def _msg_of(seq: int, pending: dict[int, tuple[int, list]], recorded: list) -> int | None:
    """The msg of the (outer) call `seq`; None when it was a re-entrant one."""
    if seq in pending:
        return pending[seq][1][2]
    return next((c.msg for c in recorded if c is not None and c.seq == seq), None)


def _entry_point(seq: int, code: int) -> EntryPoint:
    try:
        return entry_point_of(code)
    except ValueError as exc:
        raise details.DamagedDetail(f"seq {seq} has an {exc}") from None
