"""Exact 64-bit values: LPARAM/LRESULT are signed, DWORD_PTR and handles unsigned.

Databases store every 64-bit value as a signed BIGINT (SQLite INTEGER and PostgreSQL
BIGINT are both signed), so unsigned values are kept as their two's-complement bits and
converted back on the way out.
"""

from typing import Annotated

from pydantic import Field

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
UINT32_MAX = (1 << 32) - 1

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX, strict=True)]
UInt64 = Annotated[int, Field(ge=0, le=UINT64_MAX, strict=True)]
UInt32 = Annotated[int, Field(ge=0, le=UINT32_MAX, strict=True)]
# seq, times, durations, depths: stored as signed BIGINT, so at most 2**63 - 1
Count = Annotated[int, Field(ge=0, le=INT64_MAX, strict=True)]
Ordinal = Annotated[int, Field(ge=1, le=INT64_MAX, strict=True)]


def as_signed64(value: int) -> int:
    """The signed 64-bit integer with the same bits as value (which may be unsigned)."""
    return value - (1 << 64) if value > INT64_MAX else value


def as_unsigned64(value: int) -> int:
    """The unsigned 64-bit integer with the same bits as value (which may be negative)."""
    return value + (1 << 64) if value < 0 else value


def fits_64_bits(value: int) -> bool:
    """True when value is a 64-bit pattern written either signed or unsigned."""
    return INT64_MIN <= value <= UINT64_MAX


def lresult(value: int) -> str:
    """An LRESULT as every report shows it: decimal, then its 64 bits in hex."""
    return f"{value} (0x{value & UINT64_MAX:X})" if value < 0 else f"{value} (0x{value:X})"
