"""What a recorder captured of the memory behind one call: blocks, each the bytes at one
address, read before the call (phase "call": what the driver reads) or after it returned
(phase "return": what the driver wrote).

A block names its place by a catalog path: "lparam1", "lparam2", then ".field" for each
pointer followed ("lparam1.lpbiInput", "lparam2.pbDst"). The recorded address is kept
only as an identity (several calls naming one address name one object); replay never
passes it to a driver. The bytes live once per content (sha256) beside the events: a
blob table in the store, blob lines in JSONL, so a frame seen 1,000 times is stored once.
"""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drvtape.schema.values import Count, UInt64

SHA256_HEX = r"^[0-9a-f]{64}$"


class Phase(str, Enum):
    CALL = "call"  # read before the call: input and in/out memory
    RETURN = "return"  # read after the call returned: output and in/out memory


class MemoryBlock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Annotated[str, Field(min_length=1, max_length=256, pattern=r"^lparam[12](\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$")]
    phase: Phase
    address: UInt64  # the recording process's address: identity only
    size: Count  # bytes the catalog says the driver may touch there
    captured: Count  # bytes kept: size, or fewer when truncated or unreadable
    sha256: Annotated[str, Field(pattern=SHA256_HEX)]  # of the captured bytes
    truncated: bool = False  # the recorder's cap cut it: bytes after `captured` are unknown
    unreadable: bool = False  # the memory was not readable; nothing was captured

    @model_validator(mode="after")
    def _consistent(self) -> MemoryBlock:
        if self.captured > self.size:
            raise ValueError(f"{self.path}: captured {self.captured} bytes of a {self.size}-byte block")
        if self.captured < self.size and not (self.truncated or self.unreadable):
            raise ValueError(f"{self.path}: {self.captured} of {self.size} bytes captured but not marked truncated")
        if self.unreadable and self.captured:
            raise ValueError(f"{self.path}: an unreadable block has no captured bytes")
        return self


def blob_key(data: bytes) -> str:
    """The content key of captured bytes."""
    return hashlib.sha256(data).hexdigest()


def block(path: str, phase: Phase, address: int, size: int, data: bytes, *,
          truncated: bool = False, unreadable: bool = False) -> MemoryBlock:
    """A block for captured bytes (the bytes themselves go to the blob table under blob_key)."""
    return MemoryBlock(path=path, phase=phase, address=address, size=size, captured=len(data),
                       sha256=blob_key(data), truncated=truncated, unreadable=unreadable)
