"""Pointer parameters in Python: what the hook copies, and what a replay hands the driver.

In-process drivers receive pointer data as Python values: a str for a wide string, the
payload model itself for a struct. ctypes DriverProcs get a real buffer's address instead.
"""

import ctypes

from drvtape.errors import DrvtapeError
from drvtape.schema.payloads import RawBytes, WideString, _Payload


def capture(value) -> tuple[int, _Payload | None]:
    """(the LPARAM to record, the payload to record) for one argument given to a hooked proc."""
    if type(value) is int:
        return value, None
    if isinstance(value, str):
        return 0, WideString(text=value)
    if isinstance(value, (bytes, bytearray)):
        return 0, RawBytes(hex=bytes(value).hex())
    if isinstance(value, _Payload):
        return 0, value
    if isinstance(value, int):  # bool and int subclasses
        return int(value), None
    raise TypeError(f"a DriverProc parameter must be an int, a str or a drvtape payload, not {type(value).__name__}")


def python_arg(lparam: int, payload: _Payload | None):
    """The argument an in-process driver receives at replay."""
    if payload is None:
        return lparam
    if isinstance(payload, WideString):
        return payload.text
    if isinstance(payload, RawBytes):
        return bytes.fromhex(payload.hex)
    return payload


def ctypes_arg(value, keepalive: list) -> int:
    """The LPARAM for a ctypes DriverProc: a buffer's address for pointer data."""
    if type(value) is int:
        return value
    if isinstance(value, str):
        buf = ctypes.create_unicode_buffer(value)
    elif isinstance(value, (bytes, bytearray)):
        buf = ctypes.create_string_buffer(bytes(value), len(value))
    else:
        raise DrvtapeError(f"{type(value).__name__} payloads cannot be passed to a ctypes DriverProc yet")
    keepalive.append(buf)
    return ctypes.addressof(buf)
