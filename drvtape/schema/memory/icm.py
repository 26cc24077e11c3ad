"""The VfW codec messages (ICM_*, values from mingw's vfw.h) and the memory behind their
lParams, as vfw.h's IC* macros and inline functions and Wine's msvfw32 send them (and as
Microsoft's Video Compression Messages reference documents them).

Memory the driver writes is INOUT, not OUT: the bytes it leaves alone must be replayed as
the application had them, or the comparison would flag them (a decoder drawing a delta
frame reads the previous picture in its output buffer, too).
"""

from drvtape.schema.memory.codes import ICM_RESERVED, ICM_USER
from drvtape.schema.memory.sizes import PARENT, const, dib_header, dib_image, field, other_lparam, struct_size
from drvtape.schema.memory.spec import Direction, Message, Ptr, points_to
from drvtape.schema.memory.structs import (
    BITMAPINFOHEADER, ICCOMPRESS, ICCOMPRESSFRAMES, ICDECOMPRESS, ICDECOMPRESSEX, ICDRAW, ICDRAWBEGIN,
    ICDRAWSUGGEST, ICINFO, ICSETSTATUSPROC, RECT,
)

IN, INOUT = Direction.IN, Direction.INOUT
BITMAPINFO_MAX = 40 + 256 * 4  # a BITMAPINFOHEADER and the largest colour table a format has
STATE_CAP = 1024 * 1024
UNUSED = "unused"
ICERR = "ICERR_OK or an ICERR_* error"
QUERY = "ICERR_OK (supported) or ICERR_BADFORMAT"
SIZEOF = "the size of the struct lParam1 points to"


def bitmapinfo(direction: Direction = IN, until: tuple[str, ...] = ()) -> Ptr:
    """A BITMAPINFO the application filled: its header and colour table."""
    return points_to(direction, BITMAPINFOHEADER, dib_header(), until=until)


def bitmapinfo_buffer() -> Ptr:
    """A BITMAPINFO the driver fills in: the application's buffer holds nothing to size it by."""
    return points_to(INOUT, BITMAPINFOHEADER, const(BITMAPINFO_MAX))


def image(format_field: str, direction: Direction = IN) -> Ptr:
    """Frame bytes sized by the BITMAPINFOHEADER in the sibling field format_field."""
    return points_to(direction, None, dib_image(format_field))


def dword(direction: Direction = INOUT) -> Ptr:
    return points_to(direction, None, const(4))


def state_buffer(direction: Direction) -> Ptr:
    """Driver-defined bytes of the size lParam2 gives."""
    return points_to(direction, None, other_lparam(cap=STATE_CAP))


def decompress_ex(until: tuple[str, ...] = ()) -> Ptr:
    return points_to(
        IN, ICDECOMPRESSEX, struct_size(),
        lpbiSrc=bitmapinfo(until=until), lpSrc=image("lpbiSrc"),
        lpbiDst=bitmapinfo(until=until), lpDst=image("lpbiDst", INOUT),
    )


DECOMPRESS = points_to(
    IN, ICDECOMPRESS, struct_size(),
    lpbiInput=bitmapinfo(), lpInput=image("lpbiInput"),
    lpbiOutput=bitmapinfo(), lpOutput=image("lpbiOutput", INOUT),
)
COMPRESS = points_to(
    IN, ICCOMPRESS, struct_size(),
    lpbiOutput=bitmapinfo(INOUT), lpOutput=image("lpbiOutput", INOUT),  # the driver sets biSizeImage
    lpbiInput=bitmapinfo(), lpInput=image("lpbiInput"),
    lpckid=dword(), lpdwFlags=dword(),
    lpbiPrev=bitmapinfo(), lpPrev=image("lpbiPrev"),
)
COMPRESS_FRAMES_INFO = points_to(  # lOutput/lInput are the application's own values, GetData/PutData its callbacks
    IN, ICCOMPRESSFRAMES, struct_size(), lpbiOutput=bitmapinfo(), lpbiInput=bitmapinfo(),
)
DRAW_BEGIN = points_to(IN, ICDRAWBEGIN, struct_size(), lpbi=bitmapinfo(until=("ICM_DRAW_END",)))
DRAW = points_to(
    IN, ICDRAW, struct_size(),
    lpFormat=bitmapinfo(), lpData=points_to(IN, None, field("cbData", source=PARENT, cap=64 * 1024 * 1024)),
)
DRAW_SUGGEST = points_to(IN, ICDRAWSUGGEST, struct_size(), lpbiIn=bitmapinfo(), lpbiSuggest=bitmapinfo_buffer())
# Status is a callback into the application: a value the driver may call, which replay cannot rebuild
SET_STATUS_PROC = points_to(IN, ICSETSTATUSPROC, struct_size())

HWND_OR_QUERY = "parent window (HWND), or -1 to ask whether the driver has the dialog"

MESSAGES = (
    Message(ICM_RESERVED + 0, "ICM_GETSTATE", state_buffer(INOUT), "the size of the buffer",
            "bytes of state (with lParam1 NULL: the size needed)"),
    Message(ICM_RESERVED + 1, "ICM_SETSTATE", state_buffer(IN), "the size of the state", "bytes used"),
    Message(ICM_RESERVED + 2, "ICM_GETINFO", points_to(INOUT, ICINFO, other_lparam(cap=64 * 1024)),
            "the size of the ICINFO buffer", "bytes written, or 0"),
    Message(ICM_RESERVED + 10, "ICM_CONFIGURE", HWND_OR_QUERY, "0, or ICMF_CONFIGURE_QUERY", ICERR),
    Message(ICM_RESERVED + 11, "ICM_ABOUT", HWND_OR_QUERY, "0, or ICMF_ABOUT_QUERY", ICERR),
    Message(ICM_RESERVED + 30, "ICM_GETDEFAULTQUALITY", dword(), "sizeof(DWORD)", ICERR),
    Message(ICM_RESERVED + 31, "ICM_GETQUALITY", dword(), UNUSED, ICERR),
    Message(ICM_RESERVED + 32, "ICM_SETQUALITY", dword(IN), UNUSED, ICERR),
    Message(ICM_RESERVED + 41, "ICM_GET", state_buffer(INOUT), "the size of the buffer",
            "bytes of state (with lParam1 NULL: the size needed)"),
    Message(ICM_USER + 4, "ICM_COMPRESS_GET_FORMAT", bitmapinfo(), bitmapinfo_buffer(),
            "ICERR_OK, or with lParam2 NULL the size of the output format"),
    Message(ICM_USER + 5, "ICM_COMPRESS_GET_SIZE", bitmapinfo(), bitmapinfo(), "the largest compressed frame, in bytes"),
    Message(ICM_USER + 6, "ICM_COMPRESS_QUERY", bitmapinfo(), bitmapinfo(), QUERY),
    Message(ICM_USER + 7, "ICM_COMPRESS_BEGIN", bitmapinfo(until=("ICM_COMPRESS_END",)),
            bitmapinfo(until=("ICM_COMPRESS_END",)), QUERY),
    Message(ICM_USER + 8, "ICM_COMPRESS", COMPRESS, SIZEOF, ICERR),
    Message(ICM_USER + 9, "ICM_COMPRESS_END", UNUSED, UNUSED, ICERR),
    Message(ICM_USER + 10, "ICM_DECOMPRESS_GET_FORMAT", bitmapinfo(), bitmapinfo_buffer(),
            "ICERR_OK, or with lParam2 NULL the size of the output format"),
    Message(ICM_USER + 11, "ICM_DECOMPRESS_QUERY", bitmapinfo(), bitmapinfo(), QUERY),
    Message(ICM_USER + 12, "ICM_DECOMPRESS_BEGIN", bitmapinfo(until=("ICM_DECOMPRESS_END",)),
            bitmapinfo(until=("ICM_DECOMPRESS_END",)), QUERY),
    Message(ICM_USER + 13, "ICM_DECOMPRESS", DECOMPRESS, SIZEOF, ICERR),
    Message(ICM_USER + 14, "ICM_DECOMPRESS_END", UNUSED, UNUSED, ICERR),
    Message(ICM_USER + 15, "ICM_DRAW_BEGIN", DRAW_BEGIN, SIZEOF, ICERR),
    Message(ICM_USER + 16, "ICM_DRAW_GET_PALETTE", UNUSED, UNUSED, "an HPALETTE, NULL or ICERR_UNSUPPORTED"),
    Message(ICM_USER + 18, "ICM_DRAW_START", UNUSED, UNUSED, "none"),
    Message(ICM_USER + 19, "ICM_DRAW_STOP", UNUSED, UNUSED, "none"),
    Message(ICM_USER + 21, "ICM_DRAW_END", UNUSED, UNUSED, ICERR),
    Message(ICM_USER + 29, "ICM_DECOMPRESS_SET_PALETTE", bitmapinfo(), UNUSED, ICERR),
    Message(ICM_USER + 30, "ICM_DECOMPRESS_GET_PALETTE", bitmapinfo(), bitmapinfo_buffer(), ICERR),
    Message(ICM_USER + 31, "ICM_DRAW_QUERY", bitmapinfo(), UNUSED, QUERY),
    Message(ICM_USER + 32, "ICM_DRAW_GETTIME", dword(), UNUSED, ICERR),
    Message(ICM_USER + 33, "ICM_DRAW", DRAW, SIZEOF, ICERR),
    Message(ICM_USER + 34, "ICM_DRAW_WINDOW", points_to(IN, RECT, struct_size()), "sizeof(RECT)", ICERR),
    Message(ICM_USER + 35, "ICM_DRAW_SETTIME", "the time (in ICM_DRAW_BEGIN's units)", UNUSED, ICERR),
    Message(ICM_USER + 36, "ICM_DRAW_REALIZE", "device context (HDC)", "TRUE: realize in the background", ICERR),
    Message(ICM_USER + 37, "ICM_DRAW_FLUSH", UNUSED, UNUSED, ICERR),
    Message(ICM_USER + 38, "ICM_DRAW_RENDERBUFFER", UNUSED, UNUSED, ICERR),
    Message(ICM_USER + 39, "ICM_DRAW_START_PLAY", "start time", "end time", "none"),
    Message(ICM_USER + 40, "ICM_DRAW_STOP_PLAY", UNUSED, UNUSED, "none"),
    Message(ICM_USER + 41, "ICM_GETBUFFERSWANTED", dword(), UNUSED, ICERR),
    Message(ICM_USER + 42, "ICM_GETDEFAULTKEYFRAMERATE", dword(), "sizeof(DWORD)", ICERR),
    Message(ICM_USER + 50, "ICM_DRAW_SUGGESTFORMAT", DRAW_SUGGEST, SIZEOF, ICERR),
    Message(ICM_USER + 51, "ICM_DRAW_CHANGEPALETTE", bitmapinfo(), UNUSED, ICERR),
    Message(ICM_USER + 60, "ICM_DECOMPRESSEX_BEGIN", decompress_ex(until=("ICM_DECOMPRESSEX_END",)), SIZEOF, QUERY),
    Message(ICM_USER + 61, "ICM_DECOMPRESSEX_QUERY", decompress_ex(), SIZEOF, QUERY),
    Message(ICM_USER + 62, "ICM_DECOMPRESSEX", decompress_ex(), SIZEOF, ICERR),
    Message(ICM_USER + 63, "ICM_DECOMPRESSEX_END", UNUSED, UNUSED, ICERR),
    Message(ICM_USER + 70, "ICM_COMPRESS_FRAMES_INFO", COMPRESS_FRAMES_INFO, SIZEOF, ICERR),
    Message(ICM_USER + 72, "ICM_SET_STATUS_PROC", SET_STATUS_PROC, SIZEOF, ICERR),
)

# In vfw.h with no documented parameters: named, but of unknown meaning (their lParams stay
# raw values and replay counts them). ICM_FRAMERATE/ICM_KEYFRAMERATE are FOURCC arguments,
# not messages.
NAMED_ONLY = (
    (ICM_RESERVED + 12, "ICM_GETERRORTEXT"), (ICM_RESERVED + 20, "ICM_GETFORMATNAME"),
    (ICM_RESERVED + 21, "ICM_ENUMFORMATS"), (ICM_RESERVED + 40, "ICM_SET"),
    (ICM_USER + 17, "ICM_DRAW_UPDATE"), (ICM_USER + 20, "ICM_DRAW_BITS"), (ICM_USER + 52, "ICM_DRAW_IDLE"),
    (ICM_USER + 71, "ICM_COMPRESS_FRAMES"),
)
