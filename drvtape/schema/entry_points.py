"""Which function of a driver a call went to: DriverProc, or one of the device entry points a
wave, MIDI, mixer or aux driver exports beside it, which winmm finds by name with
GetProcAddress and calls as (UINT uDeviceID, UINT uMsg, DWORD_PTR dwUser, DWORD_PTR dwParam1,
DWORD_PTR dwParam2).

An entry point's code (its index in ENTRY_POINTS) is what a tape's CALL and RETURN records,
the events table's `entry_point` column and drvhost's call records hold; the store keeps
DriverProc as NULL, so every event stored before device entry points existed reads as one.
A device entry point's call keeps the event fields a DriverProc call has: `hdrvr` holds
uDeviceID and `driver_id` dwUser (the instance the driver stored at WODM_OPEN's dwUser).
"""

from enum import Enum


class EntryPoint(str, Enum):
    DRIVER_PROC = "DriverProc"
    WOD = "wodMessage"  # wave output
    WID = "widMessage"  # wave input
    MOD = "modMessage"  # MIDI output
    MID = "midMessage"  # MIDI input
    MXD = "mxdMessage"  # mixer
    AUX = "auxMessage"  # auxiliary audio


ENTRY_POINTS = tuple(EntryPoint)
# The message that opens a device of each entry point and the one that closes it (mingw-w64's
# mmddk.h: WODM_OPEN 5 / WODM_CLOSE 6, WIDM_OPEN 52 / 53, MODM_OPEN 3 / 4, MIDM_OPEN 55 / 56,
# MXDM_OPEN 3 / 4; aux devices are never opened). An open's dwUser points at where the
# driver stores its instance; later messages to that device pass the instance as dwUser.
DEVICE_OPEN = {EntryPoint.WOD: 5, EntryPoint.WID: 52, EntryPoint.MOD: 3, EntryPoint.MID: 55, EntryPoint.MXD: 3}
DEVICE_CLOSE = {EntryPoint.WOD: 6, EntryPoint.WID: 53, EntryPoint.MOD: 4, EntryPoint.MID: 56, EntryPoint.MXD: 4}
DEVICE_ENTRY_POINTS = ENTRY_POINTS[1:]
_CODES = {ep: code for code, ep in enumerate(ENTRY_POINTS)}


def entry_point_code(entry_point: EntryPoint) -> int:
    return _CODES[entry_point]


def entry_point_of(code: int | None) -> EntryPoint:
    """The entry point a tape's, the store's or drvhost's code names (None: DriverProc);
    ValueError for a code drvtape never writes."""
    if code is None:
        return EntryPoint.DRIVER_PROC
    if code.__class__ is not int or not 0 <= code < len(ENTRY_POINTS):
        raise ValueError(f"entry point code {code!r} (0..{len(ENTRY_POINTS) - 1} expected)")
    return ENTRY_POINTS[code]


def stored_code(entry_point: EntryPoint) -> int | None:
    """The events table's value: NULL for DriverProc."""
    return None if entry_point is EntryPoint.DRIVER_PROC else _CODES[entry_point]
