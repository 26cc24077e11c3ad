"""The `payload` column: an event's details that have no column of their own, as JSON text.

A call's pointer payloads (CallPayloads), a fault's code and place, a mark's text, an end's
reason and detail. Every producer of rows encodes here and every reader decodes here, so
the text is written one way (compact JSON, non-ASCII kept) and read one way.
"""

import json
from typing import NamedTuple

from pydantic import ValidationError

from drvtape.errors import DrvtapeError
from drvtape.schema.events import EndReason
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


def encode_call(payloads: CallPayloads | None) -> str | None:
    return payloads.model_dump_json(exclude_none=True) if payloads else None


def decode_call(text: str | None) -> CallPayloads | None:
    try:
        return CallPayloads.model_validate_json(text) if text else None
    except ValidationError as exc:
        raise DamagedDetail(f"a stored call's payloads are not valid ({exc.errors()[0]['msg']})") from None


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
