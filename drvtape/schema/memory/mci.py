"""The MCI commands (MCI_*, values from mingw's mmsystem.h and mmddk.h) an MCI driver's
DriverProc receives, and the memory behind their lParams, as Wine's winmm sends them
(dlls/winmm/mci.c, and by recording it: tests/native/test_tap_mci.py): lParam1 is the
command's flags (MCI_NOTIFY, MCI_WAIT, MCI_STATUS_ITEM, ...) and lParam2 its parameter
struct. The raw MCI_* values are sent, which are DRV_MCI_FIRST (0x800) based; winmm opens
and closes the device with MCI_OPEN_DRIVER and MCI_CLOSE_DRIVER (mmddk.h), not MCI_OPEN
and MCI_CLOSE, and answers MCI_SYSINFO and MCI_BREAK itself.

Which fields a driver reads depends on the flags, and which struct it is on the device
type (mciwave reads an MCI_WAVE_SET_PARMS, mciseq an MCI_SEQ_SET_PARMS). The catalog sizes
memory by fields, not by flags, so each command captures the largest variant Wine's
drivers read: the open parameters as MCI_DGV_OPEN_PARMSW (MCI_OPEN_PARMSW and
MCI_WAVE_OPEN_PARMSW are its first fields), MCI_SET as MCI_WAVE_SET_PARMS. A smaller
struct's capture then holds bytes past its end that the driver never reads. Its string
pointers are followed; with MCI_OPEN_TYPE_ID or MCI_OPEN_ELEMENT_ID one holds a number
below 0x10000 instead, which is captured as unreadable memory, so replay refuses that call
(it never passes a recorded value as a pointer: docs/replay.md).
mciavi32's MCI_DGV_STATUS_PARMSW and MCI_DGV_INFO_PARMSW extend the generic structs with
fields (lpstrDrive) only some flags read: only the generic part is captured.

dwCallback is the window MCI_NOTIFY posts MM_MCINOTIFY to: a value of the recording
process, which replay sets to 0 (docs/replay.md).

Memory the driver writes is INOUT (see icm.py for why).
"""

from drvtape.schema.memory.sizes import PARENT, field, struct_size, wstr
from drvtape.schema.memory.spec import Direction, Message, Ptr, points_to
from drvtape.schema.memory.structs import (
    MCI_DGV_OPEN_PARMSW, MCI_GENERIC_PARMS, MCI_GETDEVCAPS_PARMS, MCI_INFO_PARMSW, MCI_LOAD_PARMSW, MCI_PLAY_PARMS,
    MCI_RECORD_PARMS, MCI_SAVE_PARMSW, MCI_SEEK_PARMS, MCI_STATUS_PARMS, MCI_WAVE_SET_PARMS,
)

IN, INOUT = Direction.IN, Direction.INOUT
FLAGS = "MCI_NOTIFY, MCI_WAIT and the command's own flags"
MCIERROR = "0, or an MCIERR_* error (with MCI_RESOURCE_RETURNED: a resource id in the high word)"
TEXT_CAP = 64 * 1024
CALLBACK_FIELD = "dwCallback"  # every MCI parameter struct starts with it


def text() -> Ptr:
    return points_to(IN, None, wstr(cap=TEXT_CAP), text=True)


def parms(layout, direction: Direction = IN, **children: Ptr) -> Ptr:
    return points_to(direction, layout, struct_size(), zeroed=(CALLBACK_FIELD,), **children)


OPEN = parms(MCI_DGV_OPEN_PARMSW, lpstrDeviceType=text(), lpstrElementName=text(), lpstrAlias=text())
GENERIC = parms(MCI_GENERIC_PARMS)
INFO = parms(MCI_INFO_PARMSW, INOUT, lpstrReturn=points_to(INOUT, None, field(
    "dwRetSize", source=PARENT, cap=TEXT_CAP, mul=2), text=True))  # WCHARs: Wine's drivers lstrcpynW that many

MESSAGES = (
    Message(0x0801, "MCI_OPEN_DRIVER", FLAGS + " (MCI_OPEN_TYPE, MCI_OPEN_ELEMENT, MCI_OPEN_ALIAS, ...)", OPEN,
            MCIERROR),
    Message(0x0802, "MCI_CLOSE_DRIVER", FLAGS, GENERIC, MCIERROR),
    Message(0x0803, "MCI_OPEN", FLAGS, OPEN, MCIERROR),
    Message(0x0804, "MCI_CLOSE", FLAGS, GENERIC, MCIERROR),
    Message(0x0806, "MCI_PLAY", FLAGS + " (MCI_FROM, MCI_TO)", parms(MCI_PLAY_PARMS), MCIERROR),
    Message(0x0807, "MCI_SEEK", FLAGS + " (MCI_SEEK_TO_START, MCI_SEEK_TO_END, MCI_TO)", parms(MCI_SEEK_PARMS),
            MCIERROR),
    Message(0x0808, "MCI_STOP", FLAGS, GENERIC, MCIERROR),
    Message(0x0809, "MCI_PAUSE", FLAGS, GENERIC, MCIERROR),
    Message(0x080A, "MCI_INFO", FLAGS + " (MCI_INFO_PRODUCT, MCI_INFO_FILE, ...)", INFO, MCIERROR),
    Message(0x080B, "MCI_GETDEVCAPS", FLAGS + " (MCI_GETDEVCAPS_ITEM)", parms(MCI_GETDEVCAPS_PARMS, INOUT),
            MCIERROR),
    Message(0x080D, "MCI_SET", FLAGS + " (MCI_SET_TIME_FORMAT, MCI_SET_AUDIO, MCI_WAVE_SET_*, MCI_SEQ_SET_*, ...)",
            parms(MCI_WAVE_SET_PARMS), MCIERROR),
    Message(0x080F, "MCI_RECORD", FLAGS + " (MCI_FROM, MCI_TO)", parms(MCI_RECORD_PARMS), MCIERROR),
    Message(0x0813, "MCI_SAVE", FLAGS + " (MCI_SAVE_FILE)", parms(MCI_SAVE_PARMSW, lpfilename=text()), MCIERROR),
    Message(0x0814, "MCI_STATUS", FLAGS + " (MCI_STATUS_ITEM, MCI_TRACK)", parms(MCI_STATUS_PARMS, INOUT),
            MCIERROR),
    Message(0x0830, "MCI_CUE", FLAGS + " (MCI_WAVE_INPUT, MCI_WAVE_OUTPUT)", GENERIC, MCIERROR),
    Message(0x0850, "MCI_LOAD", FLAGS + " (MCI_LOAD_FILE)", parms(MCI_LOAD_PARMSW, lpfilename=text()), MCIERROR),
    Message(0x0855, "MCI_RESUME", FLAGS, GENERIC, MCIERROR),
)

# In mmsystem.h, with device-specific parameter structs the catalog does not describe:
# named, but of unknown meaning (their lParams stay raw values and replay counts them).
NAMED_ONLY = (
    (0x0805, "MCI_ESCAPE"), (0x080C, "MCI_SPIN"), (0x080E, "MCI_STEP"), (0x0810, "MCI_SYSINFO"),
    (0x0811, "MCI_BREAK"), (0x0840, "MCI_REALIZE"), (0x0841, "MCI_WINDOW"), (0x0842, "MCI_PUT"),
    (0x0843, "MCI_WHERE"), (0x0844, "MCI_FREEZE"), (0x0845, "MCI_UNFREEZE"), (0x0851, "MCI_CUT"),
    (0x0852, "MCI_COPY"), (0x0853, "MCI_PASTE"), (0x0854, "MCI_UPDATE"), (0x0856, "MCI_DELETE"),
)
