"""Reading the JSONL interchange format (drvtape.formats.jsonl) one line at a time.

`jsonl_items` yields what each line holds, checked: a SessionHeader, a Blob, or an event
as an EventRow (with its model when it was built through one). Nothing but the current
session's call bookkeeping and the sizes of the blobs seen is kept, so a file of any size
is read in bounded memory.

Bulk path: plain call and return lines become rows directly (drvtape.formats.plain_rows);
every other line goes through its pydantic model, which accepts it or names the problem.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import timezone
from typing import NamedTuple

import orjson
from pydantic import BaseModel, ValidationError

from drvtape.errors import DrvtapeError
from drvtape.formats.jsonl import FORMAT, VERSION, BlobLine, Interchange
from drvtape.formats.plain_rows import ROW_OF_KIND
from drvtape.schema.events import EVENT_TYPES, Event, SessionHeader
from drvtape.schema.memory.captured import blob_key
from drvtape.schema.rows import CALL, END, FAULT, RETURN, EventRow, event_to_row
from drvtape.schema.values import INT64_MAX

_EVENT_BY_KIND: dict[str, type[BaseModel]] = {m.model_fields["kind"].default: m for m in EVENT_TYPES}
_new_tuple = tuple.__new__


class Blob(NamedTuple):
    sha256: str
    data: bytes


class RowEvent(NamedTuple):
    """An event line: its row, and its model when it went through one (None on the fast path)."""

    row: EventRow
    model: Event | None


# ---- the model path ---------------------------------------------------------------------

# Counters the store keeps in signed 64-bit columns: the models bound them below, not above.
_SIGNED_COUNTERS = ("seq", "ts_ns", "depth", "duration_ns", "call_seq", "pid")


def _check_storable(obj: dict, model: BaseModel) -> None:
    """What a model accepts but a database or a UTF-8 file cannot hold: refused here, so an
    import that parsed never fails half-way in the store (or in a later export)."""
    for name in _SIGNED_COUNTERS:
        value = getattr(model, name, None)
        if isinstance(value, int) and value > INT64_MAX:
            raise ValueError(f"field {name!r}: {value} is larger than 2**63-1")
    pending = [obj]
    while pending:
        item = pending.pop()
        values = item.values() if isinstance(item, dict) else item
        for value in values:
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("a string with a lone UTF-16 surrogate (not representable in UTF-8)") from None
            elif isinstance(value, (dict, list)):
                pending.append(value)


def _parse_header(obj: dict) -> SessionHeader:
    fmt, version = obj.get("format"), obj.get("version")
    if fmt != FORMAT:
        raise ValueError(f"unknown format {fmt!r} (expected {FORMAT!r})")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"unsupported {FORMAT} version {version!r} (this drvtape reads version {VERSION})")
    fields = {k: v for k, v in obj.items() if k not in ("type", "format", "version")}
    header = SessionHeader.model_validate(fields)
    _check_storable(fields, header)
    try:
        header.started_at.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"field 'started_at': {header.started_at.isoformat()} is outside the years 1..9999 in UTC") from None
    return header


def _parse_event(obj: dict) -> Event:
    kind = obj.get("kind")
    model = _EVENT_BY_KIND.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(_EVENT_BY_KIND)
        raise ValueError(f"unknown event kind {kind!r} (expected one of {known})")
    event = model.model_validate(obj)
    _check_storable(obj, event)
    return event


def _parse_blob(obj: dict) -> Blob:
    line = BlobLine.model_validate(obj)
    try:
        data = base64.b64decode(line.data_b64, validate=True)
    except binascii.Error:
        raise ValueError("field 'data_b64': not base64") from None
    if blob_key(data) != line.sha256:
        raise ValueError(f"blob {line.sha256[:16]}: its data does not hash to its sha256")
    return Blob(line.sha256, data)


def _validation_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in err["loc"])
    return f"field {field!r}: {err['msg']}" if field else err["msg"]


# ---- a session's checks ------------------------------------------------------------------


class _SessionChecks:
    """What the events of one session must satisfy beyond each event's own model."""

    def __init__(self, blob_sizes: dict[str, int]):
        self.blob_sizes = blob_sizes  # the file's blob lines read so far: sha256 -> size
        self.last_seq = 0
        self.calls: set[int] = set()
        self.answered: set[int] = set()
        self.ended = False

    def add(self, row: EventRow, model: Event | None) -> None:
        if self.ended:
            raise ValueError(f"event after the session's end event (seq {self.last_seq})")
        seq, kind, call_seq = row[0], row[1], row[10]
        if seq != self.last_seq + 1:
            raise ValueError(f"seq {seq} where {self.last_seq + 1} was expected (seq is contiguous from 1 in a session)")
        if call_seq is not None and call_seq not in self.calls:
            raise ValueError(f"call_seq {call_seq} does not name an earlier call event of this session")
        if kind == RETURN or kind == FAULT:
            if call_seq in self.answered:
                raise ValueError(f"call {call_seq} already has a return or fault")
            self.answered.add(call_seq)
        elif kind == CALL:
            self.calls.add(seq)
        elif kind == END:
            self.ended = True
        for b in getattr(model, "memory", ()) if model is not None else ():
            size = self.blob_sizes.get(b.sha256)
            if size is None:
                raise ValueError(f"memory block {b.path} names blob {b.sha256[:16]}, which no earlier blob line holds")
            if size != b.captured:
                raise ValueError(f"memory block {b.path} captured {b.captured} bytes, its blob holds {size}")
        self.last_seq = seq


# ---- lines -> items ----------------------------------------------------------------------


def _parsed_otherwise(line: str | bytes, where: str) -> object:
    """A line orjson refused, read as text: None for a blank line; what json makes of it
    decides, and its message names the problem."""
    if line.__class__ is bytes:
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise DrvtapeError(f"{where}: not UTF-8 text") from None
    return _json_loads(line, where) if line.strip() else None


def _json_loads(line: str, where: str):
    """json's reading of a line orjson refused: orjson is 5x faster on the lines drvtape
    writes, json accepts more (integers past 64 bits, NaN, nesting past 1,024 levels, lone
    surrogates) and the checks after it refuse those with their own messages."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DrvtapeError(f"{where}: not JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise DrvtapeError(f"{where}: not a drvtape line: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than int() converts
        raise DrvtapeError(f"{where}: not JSON drvtape can read: {str(exc).split(';')[0]}") from None


def jsonl_items(lines: Iterable[str | bytes], source: str, *, models: bool = False
                ) -> Iterator[SessionHeader | Blob | RowEvent]:
    """What each line holds, checked, in file order; DrvtapeError names source:line of the
    first problem (items before it have been yielded: a consumer that stores them undoes
    that). Lines are text, or bytes that must be UTF-8 (orjson reads them as they are: no
    decoding per line). models=True builds every event's model (RowEvent.model is never None)."""
    checks: _SessionChecks | None = None
    blob_sizes: dict[str, int] = {}
    seen: set[uuid.UUID] = set()
    line_no = 0
    loads, not_json = orjson.loads, orjson.JSONDecodeError
    for line_no, line in enumerate(lines, 1):
        try:  # orjson refuses blank lines, and bytes that are not UTF-8, as well as what is not JSON
            obj = loads(line)
        except not_json:
            obj = _parsed_otherwise(line, f"{source}:{line_no}")
            if obj is None:
                continue
        if obj.__class__ is not dict:
            raise DrvtapeError(f"{source}:{line_no}: a line must be a JSON object, not {type(obj).__name__}")
        try:
            kind = obj.get("kind")
            fast = ROW_OF_KIND.get(kind) if kind.__class__ is str and not models else None
            row = fast(obj) if fast is not None else None
            if row is not None and checks is not None:
                checks.add(row, None)
                yield _new_tuple(RowEvent, (row, None))
            elif obj.get("type") == "session":
                header = _parse_header(obj)
                if header.id in seen:
                    raise ValueError(f"session {header.id} appears twice in this file")
                seen.add(header.id)
                checks = _SessionChecks(blob_sizes)
                yield header
            elif obj.get("type") == "blob":
                blob = _parse_blob(obj)
                blob_sizes[blob.sha256] = len(blob.data)
                yield blob
            elif "kind" not in obj:
                raise ValueError('neither a session header ("type": "session"), a blob ("type": "blob") nor an '
                                 'event ("kind")')
            elif checks is None:
                raise ValueError("an event before any session header")
            else:
                event = _parse_event(obj)
                row = event_to_row(event)
                checks.add(row, event)
                yield RowEvent(row, event)
        except ValidationError as exc:
            raise DrvtapeError(f"{source}:{line_no}: {_validation_problem(exc)}") from None
        except ValueError as exc:
            raise DrvtapeError(f"{source}:{line_no}: {exc}") from None
    if checks is None:
        raise DrvtapeError(f"{source}: no sessions (the file is empty)" if line_no == 0 else
                           f"{source}: no session header in {line_no} line(s)")


def parse_jsonl(lines: Iterable[str | bytes], source: str) -> list[tuple[SessionHeader, list[Event]]]:
    """Every session in the lines, validated; DrvtapeError names source:line of the first problem."""
    return read_jsonl(lines, source).sessions


def read_jsonl(lines: Iterable[str | bytes], source: str) -> Interchange:
    """Every session and blob in the lines, validated, in memory (for a file of any size,
    consume jsonl_items instead); DrvtapeError names source:line of the first problem."""
    found = Interchange([], {})
    for item in jsonl_items(lines, source, models=True):
        if isinstance(item, RowEvent):
            found.sessions[-1][1].append(item.model)
        elif isinstance(item, Blob):
            found.blobs[item.sha256] = item.data
        else:
            found.sessions.append((item, []))
    return found
