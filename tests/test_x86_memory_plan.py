"""32-bit memory replay without Wine: the catalog's facts at x86 (4-byte pointers), a plan for
the x86 drvhost patching 4-byte pointers, the refusal when the session's layouts are not the
host's, which arch the host is (the DLL's PE machine, read only when there is memory to
rebuild), and the DRV_* payloads laid out for 4-byte pointers."""
from __future__ import annotations

import struct
from dataclasses import replace

from drvtape.formats.host_memory import PATCH, payload_image, payload_ops
from drvtape.replay.dll import host_arch
from drvtape.replay.memory import plan_memory
from drvtape.replay.memory_facts import MessageFacts, catalog_lookup
from drvtape.runtime.targets import parse_target
from drvtape.schema.memory.selector import parse_selector
from drvtape.schema.memory.classes import DriverClass

from memory_sessions import DECODE, memcodec_facts, memcodec_session


def x86_memcodec_lookup():
    """memcodec's facts with its FAKEDECODE laid out for x86: pbSrc @8, pbDst @12, 4 bytes each."""
    facts = memcodec_facts()
    decode = facts[DECODE]
    top = replace(decode.nodes["lparam1"], pointers=((8, 4, "lparam1.pbSrc"), (12, 4, "lparam1.pbDst")))
    facts[DECODE] = MessageFacts(decode.name, {**decode.nodes, "lparam1": top})
    return lambda cls, msg: facts.get(msg)


def as_arch(recording, arch: str):
    return replace(recording, header=recording.header.model_copy(update={"arch": arch}))


def test_the_catalog_at_x86_has_4_byte_pointers_where_x64_has_8():
    msg = parse_selector("ACMDM_STREAM_CONVERT").code
    x64, x86 = (catalog_lookup(arch)(DriverClass.ACM, msg) for arch in ("x64", "x86"))
    header64, header86 = x64.nodes["lparam2"], x86.nodes["lparam2"]
    assert {w for _, w, _ in header64.pointers} == {8} and {w for _, w, _ in header86.pointers} == {4}
    assert [c for _, _, c in header64.pointers] == [c for _, _, c in header86.pointers]


def test_x86_memory_is_planned_for_the_x86_host_with_4_byte_patches():
    plan = plan_memory(as_arch(memcodec_session(), "x86"), x86_memcodec_lookup(), "x86")
    assert plan.unfaithful is None
    decode = plan.calls[1]
    assert [(o.offset, o.width) for o in decode.ops if o.op == PATCH] == [(8, 4), (12, 4)]


def test_x64_memory_is_refused_for_the_x86_host():
    plan = plan_memory(memcodec_session(), x86_memcodec_lookup(), "x86")
    assert plan.unfaithful.text == "seq 3 FAKE_DECODE: its memory has x64 layouts and drvhost is x86"


def test_the_host_arch_is_the_dlls_only_when_there_is_memory_to_rebuild(tmp_path, monkeypatch):
    dll = tmp_path / "drv32.dll"  # a PE header naming IMAGE_FILE_MACHINE_I386
    dll.write_bytes(b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0x40) + b"PE\0\0" + struct.pack("<H", 0x014C))
    monkeypatch.chdir(tmp_path)
    with_memory = memcodec_session()
    without = replace(with_memory, calls=[replace(c, memory_in=(), memory_out=()) for c in with_memory.calls])
    assert host_arch(with_memory, parse_target("dll:drv32.dll")) == "x86"
    assert host_arch(without, parse_target("dll:drv32.dll")) == "x64"  # the recording's: no layouts to agree on
    assert host_arch(as_arch(with_memory, "x86"), parse_target("sim:reference")) == "x86"  # in process: its own


def test_payloads_are_laid_out_for_4_byte_pointers():
    acm = {"type": "ACMDRVOPENDESCW", "cbStruct": 36, "fccType": 1, "fccComp": 2, "dwVersion": 3, "dwFlags": 4,
           "dwError": 5, "section": "S", "alias": "A", "dnDevNode": 6}
    image, relocs = payload_image(acm, 4)
    assert struct.unpack_from("<9I", image) == (36, 1, 2, 3, 4, 5, 0, 0, 6)
    assert relocs == [(24, 40), (28, 48)] and image[40:44] == "S\0".encode("utf-16-le")
    icopen = {"type": "ICOPEN", "dwSize": 36, "fccType": 1, "fccHandler": 2, "dwVersion": 3, "dwFlags": 4,
              "dwError": -2, "dnDevNode": 7}
    assert payload_image(icopen, 4) == (struct.pack("<6I3I", 36, 1, 2, 3, 4, 0xFFFFFFFE, 0, 0, 7), [])
    config = {"type": "DRVCONFIGINFO", "section": None, "alias": "vidc.mrle"}
    image, relocs = payload_image(config, 4)
    assert image[:12] == struct.pack("<3I", 12, 0, 0) and relocs == [(8, 16)]
    assert [(o.offset, o.width) for o in payload_ops(config, 1, 4) if o.op == PATCH] == [(8, 4)]
