"""Tapes of 32-bit processes (header pointer size 4): the same records, pointers and handles
widened to 64 bits by the tap, ICOPEN in its 36-byte x86 layout."""
import struct

import pytest

from drvtape.errors import DrvtapeError
from drvtape.recorder.ingest import parse_tape
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN

from test_tape_ingest import MRLE, VIDC, Writer, wstr

INSTANCE = 0xFFFF_0000  # an instance id at or above 2 GiB, as Wine's 32-bit msrle32 returned


def icopen_x86(error: int = -7) -> tuple[int, int, int, bytes]:
    # vfw.h: dwSize, fccType, fccHandler, dwVersion, dwFlags, LRESULT dwError, pV1Reserved,
    # pV2Reserved, dnDevNode: nine 4-byte fields, no padding on x86
    return 2, 2, 0, struct.pack("<IIIIIiIII", 36, VIDC, MRLE, 0x104, 2, error, 0xDEAD, 0, 3)


def x86_tape(pointer_size: int = 4) -> bytes:
    w = Writer()
    w.header(pointer_size=pointer_size)
    opened = w.call(DRV_OPEN, hdrvr=0x0002_0010, l1=0x0040_1000, l2=0x0040_2000,
                    payloads=(wstr(1, "vidc.mrle"), icopen_x86()))
    w.ret(opened, INSTANCE - (1 << 32), msg=DRV_OPEN, hdrvr=0x0002_0010)  # the tap sign-extends an LRESULT
    w.send(DRV_CLOSE, -1, driver_id=INSTANCE, hdrvr=0x0002_0010)
    w.end()
    return bytes(w.data)


def test_a_32_bit_tape_ingests_with_the_x86_icopen_and_the_instance_id_unsigned():
    tape = parse_tape(x86_tape())
    assert tape.problems == []
    (session,) = tape.sessions
    assert session.header.arch == "x86"  # the captured memory's layouts
    call, opened, close, closed, _ = session.events
    icopen = call.payload.lparam2
    assert (icopen.dwSize, icopen.fccType, icopen.fccHandler, icopen.dwVersion, icopen.dwFlags, icopen.dwError,
            icopen.dnDevNode) == (36, VIDC, MRLE, 0x104, 2, -7, 3)
    assert call.payload.lparam1.text == "vidc.mrle"
    assert opened.result == INSTANCE == close.driver_id  # the id DRV_OPEN gave is the one passed back
    assert closed.result == -1  # other results stay signed


@pytest.mark.parametrize("pointer_size", [0, 2, 16])
def test_a_tape_whose_only_header_has_another_pointer_size_is_refused_in_one_line(pointer_size):
    with pytest.raises(DrvtapeError) as e:
        parse_tape(x86_tape(pointer_size))
    assert f"header with pointer size {pointer_size} (4 or 8 expected)" in str(e.value) and "\n" not in str(e.value)
