"""The VfW codec messages (ICM_*, values from mingw's vfw.h) and the memory behind their
lParams. What each lParam is follows msvfw32's senders (ICSendMessage calls in Wine's
dlls/msvfw32/msvideo_main.c and vfw.h's IC* macros).

Memory the driver writes is INOUT, not OUT: the bytes it leaves alone must be replayed as
the application had them, or the comparison would flag them (a decoder drawing a delta
frame reads the previous picture in its output buffer, too).
"""

from drvtape.schema.memory.sizes import const, dib_header, dib_image, other_lparam, struct_size
from drvtape.schema.memory.spec import Direction, Message, Ptr, points_to
from drvtape.schema.memory.structs import BITMAPINFOHEADER, ICCOMPRESS, ICDECOMPRESS, ICINFO
from drvtape.schema.messages import DRV_USER

ICM_USER = DRV_USER
ICM_RESERVED = DRV_USER + 0x1000

IN, INOUT = Direction.IN, Direction.INOUT
BITMAPINFO_MAX = 40 + 256 * 4  # a BITMAPINFOHEADER and the largest colour table a format has
CB_STRUCT = "the size of the struct lParam1 points to"


def bitmapinfo(direction: Direction = IN, **lifetime) -> Ptr:
    """A BITMAPINFO the application filled: its header and colour table."""
    return points_to(direction, BITMAPINFOHEADER, dib_header(), **lifetime)


def bitmapinfo_buffer() -> Ptr:
    """A BITMAPINFO the driver fills in: the application's buffer holds nothing to size it by."""
    return points_to(INOUT, BITMAPINFOHEADER, const(BITMAPINFO_MAX))


def image(format_field: str, direction: Direction = IN) -> Ptr:
    """Frame bytes sized by the BITMAPINFOHEADER in the sibling field format_field."""
    return points_to(direction, None, dib_image(format_field))


def dword(direction: Direction = INOUT) -> Ptr:
    return points_to(direction, None, const(4))


DECOMPRESS = points_to(
    IN, ICDECOMPRESS, struct_size(),
    lpbiInput=bitmapinfo(), lpInput=image("lpbiInput"),
    lpbiOutput=bitmapinfo(), lpOutput=image("lpbiOutput", INOUT),
)
COMPRESS = points_to(
    IN, ICCOMPRESS, struct_size(),
    lpbiOutput=bitmapinfo(INOUT), lpOutput=image("lpbiOutput", INOUT),
    lpbiInput=bitmapinfo(), lpInput=image("lpbiInput"),
    lpckid=dword(), lpdwFlags=dword(),
    lpbiPrev=bitmapinfo(), lpPrev=image("lpbiPrev"),
)

MESSAGES = (
    Message(ICM_RESERVED + 2, "ICM_GETINFO", points_to(INOUT, ICINFO, other_lparam(cap=64 * 1024)),
            "the size of the ICINFO buffer", "bytes written"),
    Message(ICM_USER + 4, "ICM_COMPRESS_GET_FORMAT", bitmapinfo(), bitmapinfo_buffer(),
            "ICERR_OK, or with lParam2 NULL the size of the output format"),
    Message(ICM_USER + 5, "ICM_COMPRESS_GET_SIZE", bitmapinfo(), bitmapinfo(),
            "the largest compressed frame, in bytes"),
    Message(ICM_USER + 6, "ICM_COMPRESS_QUERY", bitmapinfo(), bitmapinfo(), "ICERR_OK or ICERR_BADFORMAT"),
    Message(ICM_USER + 7, "ICM_COMPRESS_BEGIN", bitmapinfo(until=("ICM_COMPRESS_END",)),
            bitmapinfo(until=("ICM_COMPRESS_END",)), "ICERR_OK or ICERR_BADFORMAT"),
    Message(ICM_USER + 8, "ICM_COMPRESS", COMPRESS, "sizeof(ICCOMPRESS)", "ICERR_OK or an error"),
    Message(ICM_USER + 9, "ICM_COMPRESS_END", "unused", "unused", "ICERR_OK"),
    Message(ICM_USER + 10, "ICM_DECOMPRESS_GET_FORMAT", bitmapinfo(), bitmapinfo_buffer(),
            "ICERR_OK, or with lParam2 NULL the size of the output format"),
    Message(ICM_USER + 11, "ICM_DECOMPRESS_QUERY", bitmapinfo(), bitmapinfo(), "ICERR_OK or ICERR_BADFORMAT"),
    Message(ICM_USER + 12, "ICM_DECOMPRESS_BEGIN", bitmapinfo(until=("ICM_DECOMPRESS_END",)),
            bitmapinfo(until=("ICM_DECOMPRESS_END",)), "ICERR_OK or ICERR_BADFORMAT"),
    Message(ICM_USER + 13, "ICM_DECOMPRESS", DECOMPRESS, "sizeof(ICDECOMPRESS)", "ICERR_OK or an error"),
    Message(ICM_USER + 14, "ICM_DECOMPRESS_END", "unused", "unused", "ICERR_OK"),
)
