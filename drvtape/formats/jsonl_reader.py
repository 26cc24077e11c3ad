"""Reading the JSONL interchange format (drvtape.formats.jsonl) one line at a time.

`jsonl_items` yields what each line holds, checked: a SessionHeader, a Blob, an event as
its row and model (RowEvent), or the rows of consecutive plain events (PlainRows). Nothing
but the current session's call bookkeeping and the sizes of the blobs seen is kept, so a
file of any size is read in bounded memory.

Bulk path: lines of plain calls and returns become rows directly (drvtape.formats.plain_rows:
a batch of lines at a time in C, where it was built, and any line it leaves one by one), and a
run of them has the rest of its tests and its session's checks (_SessionChecks.add_plain)
made together. Every other line goes through its pydantic model, which accepts it or names
the problem, and so does each line of a run that fails: its message is the model path's.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import timezone
from itertools import compress
from operator import itemgetter, lt, not_
from typing import NamedTuple

import orjson
from pydantic import BaseModel, ValidationError

from drvtape.errors import DrvtapeError
from drvtape.formats.jsonl import FORMAT, VERSION, BlobLine, Interchange
from drvtape.formats.plain_rows import in_batches, no_bools, plain_row, rows_of_lines
from drvtape.schema.events import EVENT_TYPES, Event, SessionHeader
from drvtape.schema.memory.captured import blob_key
from drvtape.schema.rows import CALL, END, FAULT, RETURN, EventRow, event_to_row
from drvtape.schema.values import INT64_MAX

_EVENT_BY_KIND: dict[str, type[BaseModel]] = {m.model_fields["kind"].default: m for m in EVENT_TYPES}
RUN_ROWS = 1_000  # plain rows checked and yielded together
READ_LINES = 1_000  # lines read, and scanned in C, at a time
_seq_of, _kind_of, _call_seq_of = itemgetter(0), itemgetter(1), itemgetter(10)  # ROW_COLUMNS places


class Blob(NamedTuple):
    sha256: str
    data: bytes


class RowEvent(NamedTuple):
    """An event line read through its model: its row, and the model."""

    row: EventRow
    model: Event


class PlainRows(NamedTuple):
    """The rows (plain tuples, ROW_COLUMNS order) of consecutive plain call and return lines."""

    rows: list[tuple]


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

    def add(self, row: EventRow, model: Event) -> None:
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
        for b in getattr(model, "memory", ()):
            size = self.blob_sizes.get(b.sha256)
            if size is None:
                raise ValueError(f"memory block {b.path} names blob {b.sha256[:16]}, which no earlier blob line holds")
            if size != b.captured:
                raise ValueError(f"memory block {b.path} captured {b.captured} bytes, its blob holds {size}")
        self.last_seq = seq

    def add_plain(self, rows: list[tuple]) -> bool:
        """Plain call and return rows, checked together (set operations and C loops instead
        of add per row): True, and recorded, when each passes what add checks; False, and
        nothing changed, when one may not (add, row by row, then names it)."""
        first = self.last_seq + 1
        after = first + len(rows)
        if self.ended or list(map(_seq_of, rows)) != list(range(first, after)):
            return False
        is_return = list(map(RETURN.__eq__, map(_kind_of, rows)))
        returns = list(compress(rows, is_return))
        answers = list(map(_call_seq_of, returns))
        answered = set(answers)
        new_calls = set(compress(range(first, after), map(not_, is_return)))
        if (len(answered) != len(answers) or not answered.isdisjoint(self.answered)
                or not answered.difference(self.calls) <= new_calls
                or not all(map(lt, answers, map(_seq_of, returns)))):
            return False
        self.calls |= new_calls
        self.answered |= answered
        self.last_seq = after - 1
        return True


# ---- lines -> items ----------------------------------------------------------------------


class _File:
    """What the lines read so far say about the rest of the file."""

    def __init__(self):
        self.checks: _SessionChecks | None = None  # the current session's
        self.blob_sizes: dict[str, int] = {}
        self.seen: set[uuid.UUID] = set()

    def item(self, obj: object, where: str, line: str | bytes | None = None) -> SessionHeader | Blob | RowEvent:
        """What a line's JSON value holds, through its model; DrvtapeError names where. line:
        the text orjson read obj from, read again by json where a model refused a float,
        which orjson makes of an integer past 64 bits: the message then names its range."""
        if obj.__class__ is not dict:
            raise DrvtapeError(f"{where}: a line must be a JSON object, not {type(obj).__name__}")
        try:
            if obj.get("type") == "session":
                header = _parse_header(obj)
                if header.id in self.seen:
                    raise ValueError(f"session {header.id} appears twice in this file")
                self.seen.add(header.id)
                self.checks = _SessionChecks(self.blob_sizes)
                return header
            if obj.get("type") == "blob":
                blob = _parse_blob(obj)
                self.blob_sizes[blob.sha256] = len(blob.data)
                return blob
            if "kind" not in obj:
                raise ValueError('neither a session header ("type": "session"), a blob ("type": "blob") nor an '
                                 'event ("kind")')
            if self.checks is None:
                raise ValueError("an event before any session header")
            event = _parse_event(obj)
            row = event_to_row(event)
            self.checks.add(row, event)
            return RowEvent(row, event)
        except ValidationError as exc:
            if line is not None and exc.errors(include_url=False)[0].get("input").__class__ is float:
                return self.item(_json_loads(line, where), where)
            raise DrvtapeError(f"{where}: {_validation_problem(exc)}") from None
        except ValueError as exc:
            raise DrvtapeError(f"{where}: {exc}") from None


class _Run:
    """Plain lines read and not checked yet: their rows, the lines, the first line's number."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.lines: list = []
        self.first = 0
        self.may_hold_bools = False  # plain_row's rows may; the C scan's never do

    def add(self, row: tuple, line, line_no: int) -> None:
        if not self.rows:
            self.first = line_no
        self.rows.append(row)
        self.lines.append(line)
        self.may_hold_bools = True

    def add_scanned(self, rows: list[tuple], lines: list, line_no: int) -> None:
        if not self.rows:
            self.first = line_no
        self.rows += rows
        self.lines += lines

    def checked(self, file: _File, source: str) -> Iterator[PlainRows | RowEvent]:
        """The run's rows together, when they pass no_bools and their session's checks in
        bulk; else each line through its model, which accepts it or names the problem as for
        any other line. The run is empty after."""
        rows, lines, first = self.rows, self.lines, self.first
        self.rows, self.lines = [], []
        if (not self.may_hold_bools or no_bools(rows)) and file.checks.add_plain(rows):
            self.may_hold_bools = False
            yield PlainRows(rows)
            return
        self.may_hold_bools = False
        for i, line in enumerate(lines):
            yield file.item(orjson.loads(line), f"{source}:{first + i}", line)


def _parsed_otherwise(line: str | bytes, where: str) -> object:
    """A line orjson refused, read as text: None for a blank line; what json makes of it
    decides, and its message names the problem."""
    if line.__class__ is bytes:
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise DrvtapeError(f"{where}: not UTF-8 text") from None
    return _json_loads(line, where) if line.strip() else None


def _json_loads(line: str | bytes, where: str):
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


_REFUSED = object()  # a line orjson refused


def jsonl_items(lines: Iterable[str | bytes], source: str, *, models: bool = False
                ) -> Iterator[SessionHeader | Blob | PlainRows | RowEvent]:
    """What each line holds, checked, in file order; DrvtapeError names source:line of the
    first problem (items before it have been yielded: a consumer that stores them undoes
    that). Lines are text, or bytes that must be UTF-8 (orjson reads them as they are: no
    decoding per line). Consecutive plain call and return lines come as PlainRows (up to
    RUN_ROWS at a time); models=True builds every event's model instead (a RowEvent each)."""
    file, run = _File(), _Run()
    line_no = 0
    loads, not_json = orjson.loads, orjson.JSONDecodeError
    scan = None if models else rows_of_lines
    for batch in in_batches(lines, READ_LINES):
        at = 0
        while at < len(batch):
            if scan is not None and file.checks is not None:
                rows = scan(batch, at, at + RUN_ROWS - len(run.rows))
                if rows:
                    run.add_scanned(rows, batch[at:at + len(rows)], line_no + 1)
                    at += len(rows)
                    line_no += len(rows)
                    if len(run.rows) == RUN_ROWS:
                        yield from run.checked(file, source)
                    continue
            line = batch[at]
            at += 1
            line_no += 1
            try:  # orjson refuses blank lines, and bytes that are not UTF-8, as well as what is not JSON
                obj = loads(line)
            except not_json:
                obj = _REFUSED
            else:
                row = plain_row(obj) if not models and obj.__class__ is dict and file.checks is not None else None
                if row is not None:
                    run.add(row, line, line_no)
                    if len(run.rows) == RUN_ROWS:
                        yield from run.checked(file, source)
                    continue
            if run.rows:
                yield from run.checked(file, source)
            if obj is not _REFUSED:
                yield file.item(obj, f"{source}:{line_no}", line)
                continue
            obj = _parsed_otherwise(line, f"{source}:{line_no}")
            if obj is not None:
                yield file.item(obj, f"{source}:{line_no}")
    if run.rows:
        yield from run.checked(file, source)
    if file.checks is None:
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
