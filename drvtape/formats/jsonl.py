"""The JSONL interchange format: sessions as lines of JSON, exact and self-describing.

A file holds one or more sessions. Each is a header line
`{"type": "session", "format": "drvtape-jsonl", "version": 1, ...SessionHeader...}`
followed by one line per event, in seq order (the event models' JSON, with "kind").
64-bit values are JSON integers, never floats or strings.

Captured memory: an event's "memory" lists its blocks (omitted when it has none); the bytes
of each are a line `{"type": "blob", "sha256": ..., "data_b64": ...}` before the first event
that names them, once per file (a frame seen 1,000 times is in the file once). A reader
checks every blob against its sha256 and every block against an earlier blob line.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import timezone
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema

from drvtape.errors import DrvtapeError
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import (
    EVENT_TYPES, CallEvent, EndEvent, Event, FaultEvent, ReturnEvent, SessionHeader,
)
from drvtape.schema.memory.captured import SHA256_HEX, blob_key
from drvtape.schema.recording import BlobLoader, no_blobs
from drvtape.schema.values import INT64_MAX

FORMAT = "drvtape-jsonl"
VERSION = 1
SCHEMA_ID = f"urn:drvtape:interchange:{FORMAT}:v{VERSION}"

_EVENT_BY_KIND: dict[str, type[BaseModel]] = {m.model_fields["kind"].default: m for m in EVENT_TYPES}


class HeaderLine(SessionHeader):
    """The first line of a session: its header, tagged with the format and version."""

    type: Literal["session"]
    format: Literal["drvtape-jsonl"]
    version: Literal[1]


class BlobLine(BaseModel):
    """The bytes of captured memory blocks, named by their sha256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["blob"]
    sha256: Annotated[str, Field(pattern=SHA256_HEX)]
    data_b64: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]*={0,2}$")]  # standard base64, padded


class Interchange(NamedTuple):
    sessions: list[tuple[SessionHeader, list[Event]]]
    blobs: dict[str, bytes]  # sha256 -> bytes, every blob the sessions' blocks name


def _dumps(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def dump_session(header: SessionHeader, events: Iterable[Event], blobs: BlobLoader = no_blobs,
                 written: set[str] | None = None) -> Iterator[str]:
    """The lines of one session, without newlines. blobs gives the bytes the events' memory
    blocks name; written holds the keys of the blob lines this file has already (pass one set
    for every session of a file)."""
    written = set() if written is None else written
    utc = header.model_copy(update={"started_at": header.started_at.astimezone(timezone.utc)})
    yield _dumps({"type": "session", "format": FORMAT, "version": VERSION,
                  **utc.model_dump(mode="json", exclude={"arch"} if header.arch is None else None)})
    for ev in events:
        memory = getattr(ev, "memory", ())
        if memory:
            yield from _blob_lines(header, memory, blobs, written)
        yield _dumps(ev.model_dump(mode="json", exclude=_left_out(ev, memory)))


def _left_out(ev: Event, memory) -> set[str] | None:
    """The fields a line leaves out when they hold their defaults, so a file of DriverProc
    events without memory reads as it did before either existed."""
    out = set() if memory else {"memory"}
    if getattr(ev, "entry_point", None) is EntryPoint.DRIVER_PROC:
        out.add("entry_point")
    return out or None


def _blob_lines(header: SessionHeader, memory, blobs: BlobLoader, written: set[str]) -> Iterator[str]:
    new = [b.sha256 for b in memory if b.sha256 not in written]
    found = blobs(new) if new else {}
    for key in dict.fromkeys(new):
        if key not in found:
            raise DrvtapeError(f"session {header.id}: the captured bytes of blob {key[:16]} are not in the "
                               "database (run verify)")
        written.add(key)
        yield _dumps({"type": "blob", "sha256": key, "data_b64": base64.b64encode(found[key]).decode("ascii")})


class _SessionChecks:
    """What the events of one session must satisfy beyond each event's own model."""

    def __init__(self, header: SessionHeader, blobs: dict[str, bytes]):
        self.header = header
        self.blobs = blobs  # the file's blob lines read so far
        self.events: list[Event] = []
        self.calls: set[int] = set()
        self.answered: set[int] = set()
        self.ended = False

    def add(self, ev: Event) -> None:
        if self.ended:
            raise ValueError(f"event after the session's end event (seq {self.events[-1].seq})")
        expected = len(self.events) + 1
        if ev.seq != expected:
            raise ValueError(f"seq {ev.seq} where {expected} was expected (seq is contiguous from 1 in a session)")
        call_seq = getattr(ev, "call_seq", None)
        if call_seq is not None and call_seq not in self.calls:
            raise ValueError(f"call_seq {call_seq} does not name an earlier call event of this session")
        if isinstance(ev, (ReturnEvent, FaultEvent)):
            if call_seq in self.answered:
                raise ValueError(f"call {call_seq} already has a return or fault")
            self.answered.add(call_seq)
        elif isinstance(ev, CallEvent):
            self.calls.add(ev.seq)
        elif isinstance(ev, EndEvent):
            self.ended = True
        for b in getattr(ev, "memory", ()):
            data = self.blobs.get(b.sha256)
            if data is None:
                raise ValueError(f"memory block {b.path} names blob {b.sha256[:16]}, which no earlier blob line holds")
            if len(data) != b.captured:
                raise ValueError(f"memory block {b.path} captured {b.captured} bytes, its blob holds {len(data)}")
        self.events.append(ev)


def _validation_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in err["loc"])
    return f"field {field!r}: {err['msg']}" if field else err["msg"]


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


def _parse_blob(obj: dict) -> tuple[str, bytes]:
    line = BlobLine.model_validate(obj)
    try:
        data = base64.b64decode(line.data_b64, validate=True)
    except binascii.Error:
        raise ValueError("field 'data_b64': not base64") from None
    if blob_key(data) != line.sha256:
        raise ValueError(f"blob {line.sha256[:16]}: its data does not hash to its sha256")
    return line.sha256, data


def parse_jsonl(lines: Iterable[str], source: str) -> list[tuple[SessionHeader, list[Event]]]:
    """Every session in the lines, validated; DrvtapeError names source:line of the first problem."""
    return read_jsonl(lines, source).sessions


def read_jsonl(lines: Iterable[str], source: str) -> Interchange:
    """Every session and blob in the lines, validated; DrvtapeError names source:line of the
    first problem."""
    sessions: list[_SessionChecks] = []
    blobs: dict[str, bytes] = {}
    seen: set[uuid.UUID] = set()
    line_no = 0
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DrvtapeError(f"{source}:{line_no}: not JSON: {exc.msg} (column {exc.colno})") from None
        except RecursionError:
            raise DrvtapeError(f"{source}:{line_no}: not a drvtape line: JSON nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more digits than int() converts
            raise DrvtapeError(f"{source}:{line_no}: not JSON drvtape can read: {str(exc).split(';')[0]}") from None
        if not isinstance(obj, dict):
            raise DrvtapeError(f"{source}:{line_no}: a line must be a JSON object, not {type(obj).__name__}")
        try:
            if obj.get("type") == "session":
                header = _parse_header(obj)
                if header.id in seen:
                    raise ValueError(f"session {header.id} appears twice in this file")
                seen.add(header.id)
                sessions.append(_SessionChecks(header, blobs))
            elif obj.get("type") == "blob":
                key, data = _parse_blob(obj)
                blobs[key] = data
            elif "kind" not in obj:
                raise ValueError('neither a session header ("type": "session"), a blob ("type": "blob") nor an '
                                 'event ("kind")')
            elif not sessions:
                raise ValueError("an event before any session header")
            else:
                sessions[-1].add(_parse_event(obj))
        except ValidationError as exc:
            raise DrvtapeError(f"{source}:{line_no}: {_validation_problem(exc)}") from None
        except ValueError as exc:
            raise DrvtapeError(f"{source}:{line_no}: {exc}") from None
    if not sessions:
        raise DrvtapeError(f"{source}: no sessions (the file is empty)" if line_no == 0 else
                           f"{source}: no session header in {line_no} line(s)")
    return Interchange([(s.header, s.events) for s in sessions], blobs)


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of one line of the interchange format."""
    models = (HeaderLine, BlobLine, *EVENT_TYPES)
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template="#/$defs/{model}")
    for model in EVENT_TYPES:
        required = defs["$defs"][model.__name__].setdefault("required", [])
        if "kind" not in required:  # kind has a default in the model, but a line must say it
            required.insert(0, "kind")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"drvtape interchange format ({FORMAT} version {VERSION}): one line",
        "description": "A file is one or more sessions: a session header line, then one line per event in seq "
                       "order, each blob line (captured memory bytes) before the first event naming it.",
        "oneOf": [refs[(m, "validation")] for m in models],
        **defs,
    }
