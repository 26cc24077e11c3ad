"""Size expressions evaluated on real struct bytes, one test per size op, for both ABIs."""

import struct

import pytest
from hypothesis import given, strategies as st

from drvtape.schema.memory.catalog import message_memory
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.sizes import SIZE_MAX, BytesReader, evaluate_size
from drvtape.schema.memory.structs import ACMDRVSTREAMHEADER, ICDECOMPRESS, ICINFO

ICM_GETINFO, ICM_DECOMPRESS, ICM_COMPRESS_GET_FORMAT = 0x5002, 0x400D, 0x4004
ACMDM_DRIVER_DETAILS, ACMDM_STREAM_OPEN, ACMDM_STREAM_CONVERT = 0x600A, 0x604C, 0x604F
BI_RGB, BI_BITFIELDS = 0, 3


def bitmapinfoheader(width=320, height=240, bits=24, compression=BI_RGB, size_image=0, clr_used=0, bi_size=40):
    return struct.pack("<IiiHHIIiiII", bi_size, width, height, 1, bits, compression, size_image, 0, 0, clr_used, 0)


def waveformatex(tag, cb_size):
    return struct.pack("<HHIIHHH", tag, 1, 8000, 4000, 256, 4, cb_size)


def size_of(cls, msg, path, arch="x64", lparams=(0, 0), **memory):
    entry = message_memory(cls, msg)
    return evaluate_size(entry.node(path), arch, BytesReader(memory, lparams))


@pytest.mark.parametrize("arch", ["x64", "x86"])
def test_const_is_sizeof_the_struct_for_the_arch(arch):
    assert size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1", arch) == ICDECOMPRESS.size(arch) == \
        {"x64": 48, "x86": 24}[arch]
    assert size_of(DriverClass.ACM, ACMDM_STREAM_CONVERT, "lparam2", arch) == ACMDRVSTREAMHEADER.size(arch) == \
        {"x64": 124, "x86": 84}[arch]  # ACMSTREAMHEADER: 11 fields + dwReservedDriver[15 or 10]


def test_const_of_an_output_format_buffer_holds_the_largest_colour_table():
    assert size_of(DriverClass.VFW, ICM_COMPRESS_GET_FORMAT, "lparam2") == 40 + 256 * 4


def test_lparam_is_the_other_lparam():
    assert size_of(DriverClass.VFW, ICM_GETINFO, "lparam1", lparams=(0x1234, ICINFO.size("x64"))) == 568


@pytest.mark.parametrize("arch", ["x64", "x86"])
@given(length=st.integers(0, 2**32 - 1))
def test_field_of_the_parent_sizes_a_stream_buffer(arch, length):
    header = bytearray(ACMDRVSTREAMHEADER.size(arch))
    struct.pack_into("<I", header, ACMDRVSTREAMHEADER.offset("cbDstLength", arch), length)
    assert size_of(DriverClass.ACM, ACMDM_STREAM_CONVERT, "lparam2.pbDst", arch, lparam2=bytes(header)) == length


@given(cb=st.integers(0, 2**32 - 1))
def test_field_of_self_is_cbstruct(cb):
    assert size_of(DriverClass.ACM, ACMDM_DRIVER_DETAILS, "lparam1", lparam1=struct.pack("<I", cb)) == cb


@given(bits=st.sampled_from([1, 4, 8]), clr_used=st.integers(0, 256))
def test_dib_header_counts_the_colour_table(bits, clr_used):
    head = bitmapinfoheader(bits=bits, clr_used=clr_used)
    expected = 40 + 4 * (clr_used or 2 ** bits)
    assert size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1.lpbiInput", **{"lparam1.lpbiInput": head}) == expected


@pytest.mark.parametrize("bits, compression, bi_size, expected", [
    (24, BI_RGB, 40, 40), (32, BI_BITFIELDS, 40, 52), (16, BI_BITFIELDS, 40, 52),
    (32, BI_BITFIELDS, 124, 124),  # a BITMAPV5HEADER holds its masks
    (0, BI_RGB, 40, 40),  # biBitCount 0 (JPEG/PNG): no colour table
])
def test_dib_header_without_a_palette(bits, compression, bi_size, expected):
    head = bitmapinfoheader(bits=bits, compression=compression, bi_size=bi_size)
    assert size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1.lpbiInput", **{"lparam1.lpbiInput": head}) == expected


@given(width=st.integers(1, 4096), height=st.integers(-4096, 4096), bits=st.sampled_from([1, 4, 8, 16, 24, 32]))
def test_dib_image_of_an_uncompressed_frame_is_its_padded_rows(width, height, bits):
    head = bitmapinfoheader(width=width, height=height, bits=bits)
    row = (width * bits + 31) // 32 * 4  # each row is padded to a DWORD
    assert size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1.lpOutput",
                   **{"lparam1.lpbiOutput": head}) == row * abs(height)


@given(size_image=st.integers(1, 2**32 - 1))
def test_dib_image_is_bisizeimage_when_set(size_image):
    head = bitmapinfoheader(compression=0x6D617263, size_image=size_image)  # 'cram'
    assert size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1.lpInput", **{"lparam1.lpbiInput": head}) == size_image


def test_a_hostile_header_saturates_instead_of_wrapping():
    head = bitmapinfoheader(width=-(2**31), height=-(2**31), bits=0xFFFF)
    size = size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1.lpOutput", **{"lparam1.lpbiOutput": head})
    node = message_memory(DriverClass.VFW, ICM_DECOMPRESS).node("lparam1.lpOutput")
    assert size > node.size.cap and size <= SIZE_MAX
    huge = bitmapinfoheader(bi_size=2**32 - 1, clr_used=2**32 - 1)
    assert size_of(DriverClass.VFW, ICM_DECOMPRESS, "lparam1.lpbiInput", **{"lparam1.lpbiInput": huge}) == \
        (2**32 - 1) * 5


@given(tag=st.integers(0, 0xFFFF), cb_size=st.integers(0, 0xFFFF))
def test_waveformatex_is_16_for_pcm_else_18_plus_cbsize(tag, cb_size):
    size = size_of(DriverClass.ACM, ACMDM_STREAM_OPEN, "lparam1.pwfxSrc",
                   **{"lparam1.pwfxSrc": waveformatex(tag, cb_size)})
    assert size == (16 if tag == 1 else 18 + cb_size)
