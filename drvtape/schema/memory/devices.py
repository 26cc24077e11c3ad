"""The messages of the device entry points (wodMessage, widMessage, modMessage, midMessage,
mxdMessage, auxMessage: drvtape.schema.entry_points) and the memory behind their dwParam1
and dwParam2 (the catalog's lparam1 and lparam2), from mingw-w64's mmddk.h (WODM_* ...
AUXDM_*, WAVEOPENDESC, MIDIOPENDESC, MIXEROPENDESC) and mmsystem.h (WAVEHDR, MIDIHDR,
MIXERLINEW, MIXERLINECONTROLSW, MIXERCONTROLDETAILS). Both headers include pshpack1.h: the
structs are packed (WAVEOPENDESC is 44 bytes on x64, as mingw's gcc lays it out).

The same number means a different message to each entry point (WODM_GETDEVCAPS and
MODM_CLOSE are both 4), so each entry point is a class of its own, without DriverProc's
DRV_* messages. A device open's dwUser (where the driver stores its instance) is no
lParam: drvhost passes a fresh DWORD_PTR for it (formats/host_protocol.py). The callback an
open's descriptor names (dwCallback) is the application's: a driver given one on replay
would call the recorded address, so replayed sessions should come from clients that open
with CALLBACK_NULL (docs/drvtap.md).
"""

from drvtape.schema.memory.layout import DWORD, DWORD_PTR, HANDLE, PTR, WCHAR, WORD, StructLayout, struct
from drvtape.schema.memory.sizes import PARENT, const, field, other_lparam, struct_size, waveformatex
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.spec import Direction, Message, Ptr, flatten, points_to
from drvtape.schema.memory.structs import WAVEFORMATEX

IN, INOUT = Direction.IN, Direction.INOUT
STRUCT_CAP = 64 * 1024
BUFFER_CAP = 64 * 1024 * 1024
UNUSED = "unused"
MMRESULT = "MMSYSERR_NOERROR or an error (MMSYSERR_NOTSUPPORTED, MMSYSERR_BADDEVICEID, ...)"
COUNT = "the number of devices"

WAVEOPENDESC = struct(
    "WAVEOPENDESC",
    ("hWave", HANDLE), ("lpFormat", PTR), ("dwCallback", DWORD_PTR), ("dwInstance", DWORD_PTR),
    ("uMappedDeviceID", DWORD), ("dnDevNode", DWORD_PTR),  # a UINT is a DWORD on x64 and x86
    pack=1,
)
MIDIOPENDESC = struct(  # rgIds[1]: the one MIDIOPENSTRMID a plain (non-stream) open has
    "MIDIOPENDESC",
    ("hMidi", HANDLE), ("dwCallback", DWORD_PTR), ("dwInstance", DWORD_PTR), ("dnDevNode", DWORD_PTR),
    ("cIds", DWORD), ("dwStreamID", DWORD), ("uDeviceID", DWORD),
    pack=1,
)
MIXEROPENDESC = struct(
    "MIXEROPENDESC",
    ("hmx", HANDLE), ("pReserved0", DWORD_PTR), ("dwCallback", DWORD_PTR), ("dwInstance", DWORD_PTR),
    ("dnDevNode", DWORD_PTR),
    pack=1,
)
WAVEHDR = struct(
    "WAVEHDR",
    ("lpData", PTR), ("dwBufferLength", DWORD), ("dwBytesRecorded", DWORD), ("dwUser", DWORD_PTR),
    ("dwFlags", DWORD), ("dwLoops", DWORD), ("lpNext", DWORD_PTR), ("reserved", DWORD_PTR),
    pack=1,
)
MIDIHDR = struct(
    "MIDIHDR",
    ("lpData", PTR), ("dwBufferLength", DWORD), ("dwBytesRecorded", DWORD), ("dwUser", DWORD_PTR),
    ("dwFlags", DWORD), ("lpNext", DWORD_PTR), ("reserved", DWORD_PTR), ("dwOffset", DWORD),
    ("dwReserved", DWORD_PTR, 8),
    pack=1,
)
MIXERLINEW = struct(  # MIXERLINEW's Target: dwType, dwDeviceID, wMid, wPid, vDriverVersion, szPname
    "MIXERLINEW",
    ("cbStruct", DWORD), ("dwDestination", DWORD), ("dwSource", DWORD), ("dwLineID", DWORD),
    ("fdwLine", DWORD), ("dwUser", DWORD_PTR), ("dwComponentType", DWORD), ("cChannels", DWORD),
    ("cConnections", DWORD), ("cControls", DWORD), ("szShortName", WCHAR, 16), ("szName", WCHAR, 64),
    ("dwType", DWORD), ("dwDeviceID", DWORD), ("wMid", WORD), ("wPid", WORD), ("vDriverVersion", DWORD),
    ("szPname", WCHAR, 32),
    pack=1,
)
MIXERLINECONTROLSW = struct(  # the union of dwControlID and dwControlType: one DWORD
    "MIXERLINECONTROLSW",
    ("cbStruct", DWORD), ("dwLineID", DWORD), ("dwControlID", DWORD), ("cControls", DWORD),
    ("cbmxctrl", DWORD), ("pamxctrl", PTR),
    pack=1,
)
MIXERCONTROLDETAILS = struct(  # the union of hwndOwner and cMultipleItems: a handle's size
    "MIXERCONTROLDETAILS",
    ("cbStruct", DWORD), ("dwControlID", DWORD), ("cChannels", DWORD), ("hwndOwner", HANDLE),
    ("cbDetails", DWORD), ("paDetails", PTR),
    pack=1,
)
# The C names of the fields these layouts flatten (gen_c.layout_asserts checks them against the headers)
C_FIELD_NAMES = {
    ("MIDIOPENDESC", "dwStreamID"): "rgIds[0].dwStreamID", ("MIDIOPENDESC", "uDeviceID"): "rgIds[0].uDeviceID",
    **{("MIXERLINEW", name): f"Target.{name}" for name in ("dwType", "dwDeviceID", "wMid", "wPid", "vDriverVersion",
                                                          "szPname")},
}
LAYOUTS = (WAVEOPENDESC, MIDIOPENDESC, MIXEROPENDESC, WAVEHDR, MIDIHDR, MIXERLINEW, MIXERLINECONTROLSW,
           MIXERCONTROLDETAILS)

# WAVEOUTCAPS, MIDIINCAPS, MIXERCAPS ... (A or W, as the sender chose), MMTIME: the bytes dwParam2 says
SIZED_BY_PARAM2 = points_to(INOUT, None, other_lparam(cap=STRUCT_CAP))
A_DWORD = points_to(INOUT, None, const(4))  # a DWORD the driver fills


def header(layout, data: Direction, until: tuple[str, ...] = ()) -> Ptr:
    """A WAVEHDR or MIDIHDR (dwParam2 is its size) and the buffer its dwBufferLength says."""
    buffer = points_to(data, None, field("dwBufferLength", source=PARENT, cap=BUFFER_CAP), until=until)
    return points_to(INOUT, layout, struct_size(), until=until, lpData=buffer)


WAVE_OPEN = points_to(IN, WAVEOPENDESC, struct_size(), lpFormat=points_to(IN, WAVEFORMATEX, waveformatex()))
MIDI_OPEN = points_to(IN, MIDIOPENDESC, struct_size())
OPEN_FLAGS = "CALLBACK_* and WAVE_FORMAT_QUERY/MIDI_IO_STATUS flags"
HEADER_SIZE = "the header's size"


def _common(prefix: str) -> tuple[Message, ...]:
    """DRVM_INIT .. DRVM_ENABLE (mmddk.h: 100 .. 103), which winmm sends every device entry point."""
    return tuple(Message(code, f"{prefix}_{name}", "the device node", UNUSED, MMRESULT)
                 for code, name in ((100, "INIT"), (101, "EXIT"), (102, "DISABLE"), (103, "ENABLE")))


def _devices(prefix: str, base: int) -> tuple[Message, ...]:
    return (Message(base, f"{prefix}_GETNUMDEVS", UNUSED, UNUSED, COUNT),
            Message(base + 1, f"{prefix}_GETDEVCAPS", SIZED_BY_PARAM2, "the size of the caps struct", MMRESULT))


def _streamed(prefix: str, base: int, opened: Ptr, hdr: StructLayout, data: Direction, queue: str,
              queue_code: int) -> tuple[Message, ...]:
    """A wave or MIDI entry point's open, close and the header messages of its data stream."""
    until = (f"{prefix}_UNPREPARE",)
    return (*_devices(prefix, base),
            Message(base + 2, f"{prefix}_OPEN", opened, OPEN_FLAGS, MMRESULT),
            Message(base + 3, f"{prefix}_CLOSE", UNUSED, UNUSED, MMRESULT),
            Message(base + 4, f"{prefix}_PREPARE", header(hdr, data, until), HEADER_SIZE, MMRESULT),
            Message(base + 5, f"{prefix}_UNPREPARE", header(hdr, data), HEADER_SIZE, MMRESULT),
            Message(queue_code, f"{prefix}_{queue}", header(hdr, data), HEADER_SIZE, MMRESULT))


WOD = (*_common("WODM"), *_streamed("WODM", 3, WAVE_OPEN, WAVEHDR, IN, "WRITE", 9),
       *(Message(code, f"WODM_{name}", UNUSED, UNUSED, MMRESULT)
         for code, name in ((10, "PAUSE"), (11, "RESTART"), (12, "RESET"), (20, "BREAKLOOP"))),
       Message(13, "WODM_GETPOS", SIZED_BY_PARAM2, "the size of the MMTIME", MMRESULT),
       *(Message(code, f"WODM_GET{name}", A_DWORD, UNUSED, MMRESULT)
         for code, name in ((14, "PITCH"), (16, "VOLUME"), (18, "PLAYBACKRATE"))),
       *(Message(code, f"WODM_SET{name}", "the new value", UNUSED, MMRESULT)
         for code, name in ((15, "PITCH"), (17, "VOLUME"), (19, "PLAYBACKRATE"))))
WID = (*_common("WIDM"), *_streamed("WIDM", 50, WAVE_OPEN, WAVEHDR, INOUT, "ADDBUFFER", 56),
       *(Message(code, f"WIDM_{name}", UNUSED, UNUSED, MMRESULT)
         for code, name in ((57, "START"), (58, "STOP"), (59, "RESET"))),
       Message(60, "WIDM_GETPOS", SIZED_BY_PARAM2, "the size of the MMTIME", MMRESULT))


MOD = (*_common("MODM"), *_streamed("MODM", 1, MIDI_OPEN, MIDIHDR, IN, "LONGDATA", 8),
       Message(7, "MODM_DATA", "the packed short MIDI message", UNUSED, MMRESULT),
       Message(9, "MODM_RESET", UNUSED, UNUSED, MMRESULT),
       Message(10, "MODM_GETVOLUME", A_DWORD, UNUSED, MMRESULT),
       Message(11, "MODM_SETVOLUME", "the new volume", UNUSED, MMRESULT))
MID = (*_common("MIDM"), *_streamed("MIDM", 53, MIDI_OPEN, MIDIHDR, INOUT, "ADDBUFFER", 59),
       *(Message(code, f"MIDM_{name}", UNUSED, UNUSED, MMRESULT)
         for code, name in ((60, "START"), (61, "STOP"), (62, "RESET"))))
MXD = (*_common("MXDM"), *_devices("MXDM", 1),
       Message(3, "MXDM_OPEN", points_to(IN, MIXEROPENDESC, struct_size()), "CALLBACK_* flags", MMRESULT),
       Message(4, "MXDM_CLOSE", UNUSED, UNUSED, MMRESULT),
       Message(5, "MXDM_GETLINEINFO", points_to(INOUT, MIXERLINEW, field("cbStruct", cap=STRUCT_CAP)),
               "MIXER_GETLINEINFOF_* flags", MMRESULT),
       Message(6, "MXDM_GETLINECONTROLS", points_to(
           INOUT, MIXERLINECONTROLSW, field("cbStruct", cap=STRUCT_CAP),
           pamxctrl=points_to(INOUT, None, field("cbmxctrl", source=PARENT, cap=STRUCT_CAP))),
               "MIXER_GETLINECONTROLSF_* flags", MMRESULT),
       *(Message(code, f"MXDM_{name}CONTROLDETAILS", points_to(
           INOUT, MIXERCONTROLDETAILS, field("cbStruct", cap=STRUCT_CAP),
           paDetails=points_to(INOUT, None, field("cbDetails", source=PARENT, cap=STRUCT_CAP))),
                 "MIXER_*CONTROLDETAILSF_* flags", MMRESULT)
         for code, name in ((7, "GET"), (8, "SET"))))
AUX = (*_common("AUXDM"), Message(3, "AUXDM_GETNUMDEVS", UNUSED, UNUSED, COUNT),
       Message(4, "AUXDM_GETDEVCAPS", SIZED_BY_PARAM2, "the size of the caps struct", MMRESULT),
       Message(5, "AUXDM_GETVOLUME", A_DWORD, UNUSED, MMRESULT),
       Message(6, "AUXDM_SETVOLUME", "the new volume", UNUSED, MMRESULT))

# Each entry point's class and its messages, without DriverProc's DRV_* (catalog.py's registration).
CLASS_MESSAGES = {cls: {m.code: flatten(m) for m in messages} for cls, messages in (
    (DriverClass.WAVEOUT, WOD), (DriverClass.WAVEIN, WID), (DriverClass.MIDIOUT, MOD), (DriverClass.MIDIIN, MID),
    (DriverClass.MIXER, MXD), (DriverClass.AUX, AUX))}
