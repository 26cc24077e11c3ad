"""drvhost's memory ops (protocol v3): blocks built before a call, read back after it, kept
alive across calls, checked against their bounds. Driven through dllhost/client.py with
memcodec.c, a fake codec that reads input structs and writes outputs."""
from __future__ import annotations

import struct

import pytest

from drvtape.dllhost import HostCall, run_dll
from drvtape.errors import DrvtapeError
from drvtape.formats.host_memory import alloc, free, patch, read, write

DRV_OPEN, DRV_CLOSE, DRV_USER = 3, 4, 0x4000
DECODE, STREAM_OPEN, STREAM_CLOSE = DRV_USER, DRV_USER + 1, DRV_USER + 2
FAKEDECODE = struct.Struct("<IIQQII")  # cbStruct, cbSrc, pbSrc, pbDst, cbDst, dwKey: 32 bytes on x64
FAKESTREAM = struct.Struct("<IIQII")  # cbStruct, dwFlags, dwDriver, dwMagic, dwReserved: 24 bytes
STREAM_MAGIC = 0x5354524D
OPENED = 0x7000_0000_0010


def decoded(src: bytes, size: int, key: int) -> bytes:
    """memcodec.c's decode."""
    return bytes(src[i % len(src)] ^ ((key + i) & 0xFF) for i in range(size))


def call(seq, msg, **kw) -> HostCall:
    return HostCall(seq=seq, thread=0, driver_id=OPENED if msg != DRV_OPEN else 0, hdrvr=0x10, msg=msg,
                    lparam1=0, lparam2=0, id_from=0 if msg != DRV_OPEN else None, **kw)


def decode_ops(struct_block: int, src_block: int, dst_block: int, info_block: int, src: bytes, size: int,
               key: int) -> tuple:
    head = FAKEDECODE.pack(FAKEDECODE.size, len(src), 0, 0, size, key)
    return (alloc(struct_block, FAKEDECODE.size), alloc(src_block, len(src)), alloc(dst_block, size),
            alloc(info_block, 16), write(struct_block, 0, head), write(src_block, 0, src),
            patch(struct_block, 8, 8, src_block), patch(struct_block, 16, 8, dst_block),
            read(dst_block, 0, size), read(info_block, 0, 16))


def test_a_nested_input_struct_is_rebuilt_and_the_outputs_come_back(driver):
    src = bytes(range(7, 7 + 40))
    results = run_dll(driver("memcodec"), [
        call(1, DRV_OPEN, expect=OPENED),
        call(2, DECODE, ops=decode_ops(1, 2, 3, 4, src, 100, 5), block1=1, block2=4, expect=100),
    ])
    assert [r.result for r in results][1] == 100
    (dst_block, dst_at, dst), (info_block, _, info) = results[1].memory
    assert (dst_block, dst_at, dst) == (3, 0, decoded(src, 100, 5))
    assert info_block == 4
    assert struct.unpack("<IIII", info) == (1, sum(decoded(src, 100, 5)), 5, 0)


def test_a_frame_larger_than_the_hosts_output_buffer_comes_back_whole(driver):
    src = bytes(range(256)) * 3
    size = 320 * 240 * 4  # 300 KiB: more than drvhost's 256 KiB output buffer
    results = run_dll(driver("memcodec"), [
        call(1, DRV_OPEN, expect=OPENED),
        call(2, DECODE, ops=decode_ops(1, 2, 3, 4, src, size, 9), block1=1, block2=4, expect=size),
        call(3, DECODE, ops=decode_ops(5, 6, 7, 8, src[:10], 16, 1), block1=5, block2=8, expect=16),
    ])
    assert results[1].memory[0][2] == decoded(src, size, 9)
    assert results[2].memory[0][2] == decoded(src[:10], 16, 1)


def test_a_block_kept_across_calls_keeps_what_the_driver_wrote_in_it(driver):
    """stream open stores the driver's own pointer in dwDriver; close reads it back (and
    faults when it is not memory): the block lives from open to close, unwritten there."""
    stream = FAKESTREAM.pack(FAKESTREAM.size, 3, 0, 0, 0)
    results = run_dll(driver("memcodec"), [
        call(1, DRV_OPEN, expect=OPENED),
        call(2, STREAM_OPEN, ops=(alloc(1, 24), write(1, 0, stream[:8]), write(1, 16, stream[16:]),
                                  read(1, 0, 24)), block1=1, expect=0),
        call(3, STREAM_CLOSE, ops=(write(1, 0, stream[:8]), write(1, 16, stream[16:]), free(1)), block1=1,
             expect=0),
    ])
    assert [r.result for r in results] == [results[0].result, 0, 0]
    _, _, after_open = results[1].memory[0]
    assert FAKESTREAM.unpack(after_open)[2] != 0
    assert FAKESTREAM.unpack(after_open)[3] == STREAM_MAGIC


@pytest.mark.parametrize("ops, message", [
    ((alloc(1, 8), read(1, 4, 8)), "reaches outside block 1"),
    ((alloc(1, 8), write(1, 0, b"x" * 9)), "reaches outside block 1"),
    ((write(1, 0, b"x"),), "reaches outside block 1"),  # never allocated
    ((alloc(1, 8), alloc(1, 8)), "allocates block 1 twice"),
    ((alloc(1, 8), alloc(2, 4), patch(1, 0, 8, 2, 5)), "points into block 2 outside it"),
    ((alloc(1, 8), patch(1, 0, 8, 3)), "bad memory op"),  # block 3 was never named by the batch
])
def test_a_bad_memory_op_is_an_error_never_a_stray_write(driver, ops, message):
    with pytest.raises(DrvtapeError, match=message):
        run_dll(driver("memcodec"), [call(1, DRV_OPEN, expect=OPENED), call(2, DRV_USER + 9, ops=ops)])
