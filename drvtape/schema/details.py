"""The `payload` column: an event's details that have no column of their own, as JSON text.

A call's pointer payloads (CallPayloads), a fault's code and place, a mark's text, an end's
reason and detail. Every producer of rows encodes here and every reader decodes here, so
the text is written one way (compact JSON, non-ASCII kept) and read one way.
"""

import json
from typing import NamedTuple

from drvtape.schema.events import EndReason
from drvtape.schema.payloads import CallPayloads


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
    return CallPayloads.model_validate_json(text) if text else None


def encode_fault(code: int, module: str | None, offset: int | None, description: str | None) -> str:
    return _dumps({"code": code, "module": module, "offset": offset, "description": description})


def decode_fault(text: str) -> FaultDetail:
    data = json.loads(text)
    return FaultDetail(data["code"], data.get("module"), data.get("offset"), data.get("description"))


def encode_mark(text: str) -> str:
    return _dumps({"text": text})


def decode_mark(text: str) -> str:
    return json.loads(text)["text"]


def encode_end(reason: EndReason | str, detail: str | None) -> str:
    return _dumps({"reason": EndReason(reason).value, "detail": detail})


def decode_end(text: str) -> EndDetail:
    data = json.loads(text)
    return EndDetail(EndReason(data["reason"]), data.get("detail"))
