"""Pointer parameters in Python: what the hook copies, and what a replay hands the driver.

In-process drivers receive pointer data as Python values: a str for a wide string, the
payload model itself for a struct. ctypes DriverProcs get a real buffer's address instead.
"""

import ctypes

from drvtape.errors import DrvtapeError
from drvtape.schema.messages import message_name, pointer_kind
from drvtape.schema.payloads import CallPayloads, PayloadModel, RawBytes, WideString, admits


def capture_call(msg: int, lparam1, lparam2) -> tuple[int, int, CallPayloads | None]:
    """(lParam1, lParam2, their copied data) to record for one call to a hooked proc.

    The message catalog says what a pointer parameter points to; data that cannot be that
    (a str where a DRVCONFIGINFO goes) is refused like any argument of the wrong type.
    """
    raw1, p1 = _captured(msg, 1, lparam1)
    raw2, p2 = _captured(msg, 2, lparam2)
    return raw1, raw2, (CallPayloads(lparam1=p1, lparam2=p2) if p1 is not None or p2 is not None else None)


def _captured(msg: int, param: int, value) -> tuple[int, PayloadModel | None]:
    raw, payload = capture(value)
    kind = pointer_kind(msg, param)
    if payload is not None and not admits(kind, payload):
        raise TypeError(f"{message_name(msg)}'s lParam{param} points to {kind.value} data, "
                        f"not a {type(value).__name__}")
    return raw, payload


def capture(value) -> tuple[int, PayloadModel | None]:
    """(the LPARAM to record, the payload to record) for one argument given to a hooked proc."""
    if type(value) is int:
        return value, None
    if isinstance(value, str):
        return 0, WideString(text=value)
    if isinstance(value, (bytes, bytearray)):
        return 0, RawBytes(hex=bytes(value).hex())
    if isinstance(value, PayloadModel):
        return 0, value
    if isinstance(value, int):  # bool and int subclasses
        return int(value), None
    raise TypeError(f"a DriverProc parameter must be an int, a str or a drvtape payload, not {type(value).__name__}")


def check_replayable(msg: int, payloads: CallPayloads | None, seq: int) -> None:
    """DrvtapeError when recorded data cannot be what the catalog says a parameter points to
    (an imported session may hold anything): a replay would hand the driver the wrong struct."""
    for param in (1, 2):
        payload = getattr(payloads, f"lparam{param}") if payloads is not None else None
        kind = pointer_kind(msg, param)
        if payload is not None and not admits(kind, payload):
            raise DrvtapeError(f"seq {seq}: {message_name(msg)}'s lParam{param} points to {kind.value} data, "
                               f"but the session holds {payload.type} data there")


def python_arg(lparam: int, payload: PayloadModel | None):
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
