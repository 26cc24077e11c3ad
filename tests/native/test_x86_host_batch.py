"""The x86 drvhost's size_t is 32 bits: batch counts whose byte sizes do not fit it (ops_bytes
is 64 bits wide; 2^26 calls of 64 bytes are 2^32 bytes) are refused with one ERROR record,
never allocated short and then read or written past; and a PATCH op must be as wide as the
host's pointers (4 bytes on x86, 8 on x64)."""
import struct
import subprocess

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, X86
from drvtape.dllhost.build import build_drvhost
from drvtape.formats import host_protocol as p
from drvtape.formats.host_memory import alloc, encode_ops, patch

BATCH = struct.Struct("<IIIIQ")  # n_calls, n_threads, n_blocks, n_after, ops_bytes
CALL = struct.Struct("<QQQQQIIIIIIII")  # host_protocol's call record (v4: entry point, reserved)


def host_answer(arch, dll: str, batch: bytes, folder) -> list[p.HostRecord]:
    argv, env = wine.command(build_drvhost(arch))
    batch_file = folder / "batch.bin"
    batch_file.write_bytes(batch)
    hello = p.encode_hello(wine.windows_path(dll), wine.windows_path(str(batch_file)), 5.0, True)
    proc = subprocess.run(argv, input=hello + p.encode_go(len(batch)), env=env, capture_output=True, timeout=120)
    return [r for r in p.HostRecordReader().feed(proc.stdout) if r.kind != p.HEARTBEAT]


@pytest.mark.parametrize(("header", "says"), [
    (BATCH.pack(0, 1, 0, 0, 1 << 33), "the memory ops do not fit in this host's address space"),
    (BATCH.pack(1 << 26, 1, 0, 0, 0), "the calls do not fit in this host's address space"),
])
def test_a_batch_too_big_for_a_32_bit_host_is_refused_in_one_error(driver_x86, header, says, tmp_path):
    ready, error = host_answer(X86, driver_x86("chatty"), header, tmp_path)
    assert ready.kind == p.READY and error.kind == p.ERROR and says in error.tail, error


@pytest.mark.parametrize(("arch", "width"), [(X86, 8), (X64, 4)])
def test_a_patch_not_as_wide_as_the_hosts_pointers_is_a_bad_op(request, arch, width, tmp_path):
    dll = request.getfixturevalue("driver_x86" if arch is X86 else "driver")("chatty")
    ops = encode_ops([alloc(1, 16), patch(1, 0, width, 0)])
    call = CALL.pack(0, 0, 1, 0, 0, 0x4000, 0, 2, 2, p.NO_CALL, 0, 0, 0)  # DriverProc; lparam1 is block 1, its 2 ops
    ready, error = host_answer(arch, dll, BATCH.pack(1, 1, 1, 0, len(ops)) + call + ops, tmp_path)
    assert ready.kind == p.READY and error.kind == p.ERROR and "bad memory op (op 3, block 1)" in error.tail, error
