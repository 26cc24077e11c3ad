"""The `payload` column: an event's details that have no column of their own, as JSON text.

A call's pointer payloads (CallPayloads), a call's or return's captured memory blocks, a
fault's code and place, a mark's text, an end's reason and detail. Every producer of rows
encodes here and every reader decodes here, so the text is written one way (compact JSON,
non-ASCII kept) and read one way.

Memory blocks sit under the key "memory" (a call's beside its payloads' "lparam1"/"lparam2"),
so the hash chain, which covers the payload text, covers each block and its sha256. An event
without memory keeps exactly the text it had before memory was recorded.
"""

import json
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import TypeAdapter, ValidationError

from drvtape.errors import DrvtapeError
from drvtape.schema.events import EndReason
from drvtape.schema.memory.captured import MemoryBlock, Phase
from drvtape.schema.payloads import CallPayloads


class DamagedDetail(DrvtapeError, ValueError):
    """Stored details that drvtape never writes: a damaged or tampered database."""


class FaultDetail(NamedTuple):
    code: int
    module: str | None
    offset: int | None
    description: str | None


class EndDetail(NamedTuple):
    reason: EndReason
    detail: str | None


def _dumps(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


MEMORY_KEY = "memory"
MEMORY_MARK = f'"{MEMORY_KEY}":'  # a cheap test before parsing: most events have no memory
_blocks_adapter: TypeAdapter = TypeAdapter(tuple[MemoryBlock, ...])


def encode_call(payloads: CallPayloads | None, memory: Sequence[MemoryBlock] = ()) -> str | None:
    if not memory:
        return payloads.model_dump_json(exclude_none=True) if payloads else None
    obj = payloads.model_dump(mode="json", exclude_none=True) if payloads else {}
    return _dumps({**obj, MEMORY_KEY: _encode_blocks(memory)})


def encode_return(memory: Sequence[MemoryBlock] = ()) -> str | None:
    return _dumps({MEMORY_KEY: _encode_blocks(memory)}) if memory else None


def _encode_blocks(memory: Sequence[MemoryBlock]) -> list[dict]:
    return [b.model_dump(mode="json", exclude_defaults=True) for b in memory]


def decode_call(text: str | None) -> CallPayloads | None:
    try:
        if not text:
            return None
        if MEMORY_MARK not in text:
            return CallPayloads.model_validate_json(text)
        obj = _loads(text, "call", MEMORY_KEY)
        del obj[MEMORY_KEY]
        return CallPayloads.model_validate(obj) if obj else None
    except ValidationError as exc:
        raise DamagedDetail(f"a stored call's payloads are not valid ({exc.errors()[0]['msg']})") from None


def decode_memory(text: str | None, phase: Phase) -> tuple[MemoryBlock, ...]:
    """The memory blocks in a call's (phase CALL) or return's (RETURN) stored details."""
    if not text or MEMORY_MARK not in text:
        return ()
    try:
        blocks = _blocks_adapter.validate_python(_loads(text, phase.value, MEMORY_KEY)[MEMORY_KEY])
    except ValidationError as exc:
        raise DamagedDetail(f"a stored {phase.value}'s memory blocks are not valid ({exc.errors()[0]['msg']})") from None
    if any(b.phase is not phase for b in blocks):
        raise DamagedDetail(f"a stored {phase.value} holds a memory block of the other phase")
    return blocks


def encode_fault(code: int, module: str | None, offset: int | None, description: str | None) -> str:
    return _dumps({"code": code, "module": module, "offset": offset, "description": description})


def decode_fault(text: str) -> FaultDetail:
    data = _loads(text, "fault", "code")
    return FaultDetail(data["code"], data.get("module"), data.get("offset"), data.get("description"))


def encode_mark(text: str) -> str:
    return _dumps({"text": text})


def decode_mark(text: str) -> str:
    return _loads(text, "mark", "text")["text"]


def encode_end(reason: EndReason | str, detail: str | None) -> str:
    return _dumps({"reason": EndReason(reason).value, "detail": detail})


def decode_end(text: str) -> EndDetail:
    data = _loads(text, "end", "reason")
    try:
        return EndDetail(EndReason(data["reason"]), data.get("detail"))
    except ValueError:
        raise DamagedDetail(f"a stored end has an unknown reason {data['reason']!r}") from None


def _loads(text: str | None, kind: str, required: str) -> dict:
    """A stored detail's JSON object, which has the key `required`."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        raise DamagedDetail(f"a stored {kind}'s details are not JSON: {str(text)[:60]!r}") from None
    if not isinstance(data, dict) or required not in data:
        raise DamagedDetail(f"a stored {kind}'s details have no {required!r}: {str(text)[:60]!r}")
    return data
