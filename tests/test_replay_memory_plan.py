"""replay/memory.py: recorded blocks -> drvhost ops, one replay block per recorded address,
alive for as long as the recording used it; what cannot be rebuilt faithfully is named."""
from __future__ import annotations

from dataclasses import replace

from drvtape.formats.host_memory import ALLOC, FREE, PATCH, READ, WRITE
from drvtape.replay.memcompare import compare_outputs
from drvtape.replay.memory import plan_memory, segments
from drvtape.schema.memory.captured import Phase, block
from drvtape.schema.recording import blobs_in

from memory_sessions import (
    SRC_AT, STREAM_AT, memcodec_lookup, memcodec_session, with_output_byte_changed, without_memory,
)


def kinds(memory):
    return [(o.op, o.block) for o in memory.ops]


def test_one_recorded_address_is_one_block_allocated_once_and_freed_after_its_last_use():
    plan = plan_memory(memcodec_session(), memcodec_lookup())
    assert plan.unfaithful is None and plan.unknown == 0
    first, second = plan.calls[1], plan.calls[2]
    ids = {1, 2, 3, 4}
    assert {b for o, b in kinds(first) if o == ALLOC} == ids
    assert not [o for o, _ in kinds(second) if o == ALLOC]  # the same four addresses
    assert {b for o, b in kinds(second) if o == FREE} == ids
    assert (first.block1, first.block2) == (second.block1, second.block2)
    assert [(r.block, r.recorded.path) for r in second.reads] == [(3, "lparam1.pbDst"), (4, "lparam2")]
    assert [b for o, b in kinds(second) if o == READ] == [3, 4]


def test_pointer_fields_are_patched_and_driver_owned_fields_never_written():
    plan = plan_memory(memcodec_session(), memcodec_lookup())
    decode = plan.calls[1]
    patches = [(o.block, o.offset, o.target) for o in decode.ops if o.op == PATCH]
    assert patches == [(decode.block1, 8, 2), (decode.block1, 16, 3)]
    writes = [(o.block, o.offset, len(o.data)) for o in decode.ops if o.op == WRITE]
    assert writes == [(1, 0, 8), (1, 24, 8), (2, 0, 50)]  # around pbSrc and pbDst
    close = plan.calls[4]
    assert [(o.offset, len(o.data)) for o in close.ops if o.op == WRITE] == [(0, 8), (16, 8)]  # dwDriver skipped
    assert [o.op for o in close.ops if o.op != WRITE] == [FREE]


def test_a_lifetime_hint_keeps_a_block_until_the_closing_message():
    session = memcodec_session()
    stream_open = session.calls[3]
    # The close no longer names the stream: the block still lives until it.
    calls = list(session.calls)
    calls[4] = replace(calls[4], lparam1=0, memory_in=())
    plan = plan_memory(replace(session, calls=calls), memcodec_lookup())
    assert stream_open.memory_in[0].address == STREAM_AT
    assert [o.op for o in plan.calls[3].ops].count(FREE) == 0
    assert [o.op for o in plan.calls[4].ops] == [FREE]


def test_a_pointer_with_no_captured_memory_is_named_with_its_seq_and_message():
    plan = plan_memory(without_memory(memcodec_session(), 5), memcodec_lookup())
    assert plan.unfaithful.text == "seq 5 FAKE_DECODE: lparam1 is a pointer and the recording has no memory for it"
    assert plan.unfaithful.index == 2 and len(plan.calls) == 2


def test_a_nested_pointer_with_no_captured_memory_is_named():
    session = memcodec_session()
    calls = list(session.calls)
    calls[1] = replace(calls[1], memory_in=calls[1].memory_in[:1])  # pbSrc not captured
    plan = plan_memory(replace(session, calls=calls), memcodec_lookup())
    assert plan.unfaithful.text == ("seq 3 FAKE_DECODE: lparam1.pbSrc is a pointer and the recording has no "
                                    "memory for it")


def test_a_truncated_or_unreadable_input_block_cannot_be_rebuilt():
    session = memcodec_session()
    cut = block("lparam1.pbSrc", Phase.CALL, SRC_AT, 50, bytes(20), truncated=True)
    calls = list(session.calls)
    calls[1] = replace(calls[1], memory_in=(calls[1].memory_in[0], cut))
    blobs = {b.sha256: session.blob(b.sha256) for c in session.calls for b in (*c.memory_in, *c.memory_out)}
    blobs[cut.sha256] = bytes(20)
    plan = plan_memory(replace(session, calls=calls, load_blobs=blobs_in(blobs)), memcodec_lookup())
    assert plan.unfaithful.text == "seq 3 FAKE_DECODE: input lparam1.pbSrc was truncated (20 of 50 bytes captured) " \
                                   "when recorded"
    unreadable = block("lparam1.pbSrc", Phase.CALL, SRC_AT, 50, b"", unreadable=True)
    calls[1] = replace(calls[1], memory_in=(calls[1].memory_in[0], unreadable))
    blobs[unreadable.sha256] = b""
    plan = plan_memory(replace(session, calls=calls, load_blobs=blobs_in(blobs)), memcodec_lookup())
    assert plan.unfaithful.text == "seq 3 FAKE_DECODE: input lparam1.pbSrc was unreadable when recorded"


def test_messages_the_catalog_does_not_know_keep_raw_values_and_are_counted():
    plan = plan_memory(memcodec_session(), lambda cls, msg: None)
    assert plan.unfaithful is None and plan.unknown == 6
    assert plan.calls == [None] * 6


def test_the_first_differing_output_byte_is_named_by_block_offset_and_field():
    session = memcodec_session()
    changed = with_output_byte_changed(session, 3, "lparam2", 5)
    decode = plan_memory(changed, memcodec_lookup()).calls[1]
    # what the driver wrote: the bytes of the unchanged recording
    wrote = [(r.block, 0, session.blob(b.sha256)) for r, b in zip(decode.reads, session.calls[1].memory_out)]
    info = wrote[1][2]
    compared = compare_outputs(changed, 3, decode.name, decode.reads, wrote)
    assert (compared.outputs, compared.bytes) == (2, 300 + 16)
    assert compared.difference.text() == (f"seq 3 FAKE_DECODE: lparam2.dwSum differs at byte 5 "
                                          f"(recorded 0x{info[5] ^ 0xFF:02X}, replayed 0x{info[5]:02X})")
    same = plan_memory(session, memcodec_lookup()).calls[1]
    assert compare_outputs(session, 3, same.name, same.reads, wrote).difference is None


def test_segments_leave_out_skipped_ranges():
    assert segments(32, [(8, 8), (16, 8)]) == [(0, 8), (24, 32)]
    assert segments(10, [(8, 8)]) == [(0, 8)]
    assert segments(8, []) == [(0, 8)]
    assert segments(24, [(0, 4), (2, 4)]) == [(6, 24)]


def test_memory_with_x86_layouts_is_refused_for_the_x64_host():
    session = memcodec_session()
    x86 = replace(session, header=session.header.model_copy(update={"arch": "x86"}))
    plan = plan_memory(x86, memcodec_lookup())
    assert plan.unfaithful.text == "seq 3 FAKE_DECODE: its memory has x86 layouts and drvhost is x64"
