"""The JSONL interchange format: sessions as lines of JSON, exact and self-describing.

A file holds one or more sessions. Each is a header line
`{"type": "session", "format": "drvtape-jsonl", "version": 1, ...SessionHeader...}`
followed by one line per event, in seq order (the event models' JSON, with "kind").
64-bit values are JSON integers, never floats or strings.

Captured memory: an event's "memory" lists its blocks (omitted when it has none); the bytes
of each are a line `{"type": "blob", "sha256": ..., "data_b64": ...}` before the first event
that names them, once per file (a frame seen 1,000 times is in the file once). A reader
(drvtape.formats.jsonl_reader) checks every blob against its sha256 and every block against
an earlier blob line.
"""

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import timezone
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from drvtape.errors import DrvtapeError
from drvtape.formats.plain_rows import in_batches, line_of_row, lines_of_rows
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import EVENT_TYPES, Event, SessionHeader
from drvtape.schema.memory.captured import SHA256_HEX
from drvtape.schema.recording import BlobLoader, no_blobs
from drvtape.schema.rows import EventRow, row_to_event

FORMAT = "drvtape-jsonl"
VERSION = 1
SCHEMA_ID = f"urn:drvtape:interchange:{FORMAT}:v{VERSION}"
WRITE_ROWS = 1_000  # rows written, in C where they are plain, at a time


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
    yield _header_line(header)
    for ev in events:
        yield from _event_lines(header, ev, blobs, written)


def dump_rows(header: SessionHeader, rows: Iterable[EventRow], blobs: BlobLoader = no_blobs,
              written: set[str] | None = None) -> Iterator[str]:
    """dump_session from stored rows (an iterator may read them a chunk at a time): plain
    call and return rows are written directly (a batch at a time, in C where it was built),
    the others through their event models."""
    written = set() if written is None else written
    yield _header_line(header)
    for batch in in_batches(rows, WRITE_ROWS):
        at = 0
        while at < len(batch):
            lines = lines_of_rows(batch, at, len(batch)) if lines_of_rows is not None else None
            if lines:
                yield from lines
                at += len(lines)
                continue
            row = batch[at]
            at += 1
            line = line_of_row(row)
            if line is None:
                yield from _event_lines(header, row_to_event(row), blobs, written)
            else:
                yield line


def _header_line(header: SessionHeader) -> str:
    utc = header.model_copy(update={"started_at": header.started_at.astimezone(timezone.utc)})
    return _dumps({"type": "session", "format": FORMAT, "version": VERSION,
                   **utc.model_dump(mode="json", exclude={"arch"} if header.arch is None else None)})


def _event_lines(header: SessionHeader, ev: Event, blobs: BlobLoader, written: set[str]) -> Iterator[str]:
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
