"""The ACM codec messages (ACMDM_*, values from Wine's include/msacmdrv.h, as read in the
wine-mirror/wine repository; mingw ships no msacmdrv.h) and the memory behind their
lParams, as msacm32 sends them (Wine's dlls/msacm32: lParam1 of every stream message is
the ACMDRVSTREAMINSTANCE msacm32 keeps from acmStreamOpen to acmStreamClose).

Memory the driver writes is INOUT (see icm.py for why).
"""

from drvtape.schema.memory.codes import ACMDM_BASE
from drvtape.schema.memory.sizes import PARENT, field, other_lparam, struct_size, waveformatex
from drvtape.schema.memory.spec import Direction, Message, Ptr, points_to
from drvtape.schema.memory.structs import (
    ACMDRIVERDETAILSW, ACMDRVFORMATSUGGEST, ACMDRVSTREAMHEADER, ACMDRVSTREAMINSTANCE, ACMDRVSTREAMSIZE,
    ACMFILTERDETAILSW, ACMFILTERTAGDETAILSW, ACMFORMATDETAILSW, ACMFORMATTAGDETAILSW, WAVEFILTER, WAVEFORMATEX,
)

IN, INOUT = Direction.IN, Direction.INOUT
STRUCT_CAP = 64 * 1024
BUFFER_CAP = 64 * 1024 * 1024
DRIVER_FIELDS = ("fdwDriver", "dwDriver")  # the driver's own words in a stream instance or header
UNUSED = "unused"
MMRESULT = "MMSYSERR_NOERROR or an error (ACMERR_NOTPOSSIBLE, MMSYSERR_NOTSUPPORTED, ...)"


def self_sized(direction: Direction, layout, **children: Ptr) -> Ptr:
    """A struct whose cbStruct (its first DWORD) the caller set to the bytes it provides."""
    return points_to(direction, layout, field("cbStruct", cap=STRUCT_CAP), **children)


def wave_filter(direction: Direction = IN, *, sized_by: str | None = None, until: tuple[str, ...] = ()) -> Ptr:
    """A WAVEFILTER (its cbStruct says its size), or the buffer of the parent's sized_by field."""
    size = field("cbStruct", cap=STRUCT_CAP) if sized_by is None else field(sized_by, source=PARENT, cap=STRUCT_CAP)
    return points_to(direction, WAVEFILTER, size, until=until)


def wave_format(direction: Direction = IN, *, sized_by: str | None = None, until: tuple[str, ...] = ()) -> Ptr:
    """A WAVEFORMATEX with its cbSize extra bytes, or the buffer of the parent's sized_by field."""
    size = waveformatex() if sized_by is None else field(sized_by, source=PARENT, cap=STRUCT_CAP)
    return points_to(direction, WAVEFORMATEX, size, until=until)


def stream_instance(until: tuple[str, ...] = ()) -> Ptr:
    return points_to(
        INOUT, ACMDRVSTREAMINSTANCE, struct_size(), until=until, driver_owned=DRIVER_FIELDS,
        pwfxSrc=wave_format(until=until), pwfxDst=wave_format(until=until),
        pwfltr=wave_filter(until=until),
    )


def stream_header(destination: Direction, until: tuple[str, ...] = ()) -> Ptr:
    """An ACMDRVSTREAMHEADER and its source and destination buffers."""
    def buffer(direction: Direction, length: str) -> Ptr:
        return points_to(direction, None, field(length, source=PARENT, cap=BUFFER_CAP), until=until)
    return points_to(
        INOUT, ACMDRVSTREAMHEADER, struct_size(), until=until, driver_owned=DRIVER_FIELDS,
        pbSrc=buffer(IN, "cbSrcLength"), pbDst=buffer(destination, "cbDstLength"),
    )


OPEN_UNTIL_CLOSE = ("ACMDM_STREAM_CLOSE",)
PREPARED_UNTIL_UNPREPARE = ("ACMDM_STREAM_UNPREPARE",)

# WAVEINCAPS or WAVEOUTCAPS (A or W, as the sender chose): the bytes lParam2 says
WAVE_CAPS = points_to(INOUT, None, other_lparam(cap=STRUCT_CAP))

MESSAGES = (
    Message(ACMDM_BASE + 10, "ACMDM_DRIVER_DETAILS", self_sized(INOUT, ACMDRIVERDETAILSW), UNUSED, MMRESULT),
    Message(ACMDM_BASE + 11, "ACMDM_DRIVER_ABOUT", "parent window (HWND), or -1 to ask whether the driver has "
            "the dialog", UNUSED, MMRESULT),
    Message(ACMDM_BASE + 20, "ACMDM_HARDWARE_WAVE_CAPS_INPUT", WAVE_CAPS, "the size of the caps struct", MMRESULT),
    Message(ACMDM_BASE + 21, "ACMDM_HARDWARE_WAVE_CAPS_OUTPUT", WAVE_CAPS, "the size of the caps struct", MMRESULT),
    Message(ACMDM_BASE + 25, "ACMDM_FORMATTAG_DETAILS", self_sized(INOUT, ACMFORMATTAGDETAILSW),
            "ACM_FORMATTAGDETAILSF_* flags", MMRESULT),
    Message(ACMDM_BASE + 26, "ACMDM_FORMAT_DETAILS",
            self_sized(INOUT, ACMFORMATDETAILSW, pwfx=wave_format(INOUT, sized_by="cbwfx")),
            "ACM_FORMATDETAILSF_* flags", MMRESULT),
    Message(ACMDM_BASE + 27, "ACMDM_FORMAT_SUGGEST",
            self_sized(IN, ACMDRVFORMATSUGGEST, pwfxSrc=wave_format(sized_by="cbwfxSrc"),
                       pwfxDst=wave_format(INOUT, sized_by="cbwfxDst")),
            UNUSED, MMRESULT),
    Message(ACMDM_BASE + 50, "ACMDM_FILTERTAG_DETAILS", self_sized(INOUT, ACMFILTERTAGDETAILSW),
            "ACM_FILTERTAGDETAILSF_* flags", MMRESULT),
    Message(ACMDM_BASE + 51, "ACMDM_FILTER_DETAILS",
            self_sized(INOUT, ACMFILTERDETAILSW, pwfltr=wave_filter(INOUT, sized_by="cbwfltr")),
            "ACM_FILTERDETAILSF_* flags", MMRESULT),
    Message(ACMDM_BASE + 76, "ACMDM_STREAM_OPEN", stream_instance(OPEN_UNTIL_CLOSE), UNUSED, MMRESULT),
    Message(ACMDM_BASE + 77, "ACMDM_STREAM_CLOSE", stream_instance(), UNUSED, MMRESULT),
    Message(ACMDM_BASE + 78, "ACMDM_STREAM_SIZE", stream_instance(),
            points_to(INOUT, ACMDRVSTREAMSIZE, struct_size()), MMRESULT),
    Message(ACMDM_BASE + 79, "ACMDM_STREAM_CONVERT", stream_instance(), stream_header(INOUT), MMRESULT),
    Message(ACMDM_BASE + 80, "ACMDM_STREAM_RESET", stream_instance(), "fdwReset (no flags are defined: 0)", MMRESULT),
    Message(ACMDM_BASE + 81, "ACMDM_STREAM_PREPARE", stream_instance(),
            stream_header(IN, PREPARED_UNTIL_UNPREPARE), MMRESULT),
    Message(ACMDM_BASE + 82, "ACMDM_STREAM_UNPREPARE", stream_instance(), stream_header(IN), MMRESULT),
)

# Named in msacmdrv.h without documented parameters: of unknown meaning (raw values).
NAMED_ONLY = ((ACMDM_BASE + 1, "ACMDM_DRIVER_NOTIFY"), (ACMDM_BASE + 83, "ACMDM_STREAM_UPDATE"))
