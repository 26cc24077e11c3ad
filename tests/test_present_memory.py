"""Captured blocks as JSON with their struct fields named."""

import struct

from drvtape.present.memory import CapturedBytes, block_rows, memory_json
from drvtape.schema.memory.captured import Phase, block
from drvtape.schema.memory.catalog import message_memory
from drvtape.schema.memory.classes import DriverClass

ICM_DECOMPRESS = 0x400D
MCI_OPEN_DRIVER = 0x801  # mmddk.h


def test_a_known_struct_block_shows_its_fields_raw_memory_does_not():
    header = struct.pack("<IiiHHIIiiII", 40, 32, 16, 1, 8, 0x6D617263, 300, 0, 0, 0, 0)
    frame = bytes(300)
    blocks = [block("lparam1.lpbiInput", Phase.CALL, 0x1000, 40, header),
              block("lparam1.lpInput", Phase.CALL, 0x2000, 300, frame),
              block("lparam1.lpbiOutput", Phase.CALL, 0x3000, 1064, b"", unreadable=True)]
    blobs = {blocks[0].sha256: header, blocks[1].sha256: frame}
    shown = memory_json(blocks, message_memory(DriverClass.VFW, ICM_DECOMPRESS), "x64", blobs)
    assert shown[0]["fields"]["biWidth"] == 32 and shown[0]["fields"]["biCompression"] == 0x6D617263
    assert "fields" not in shown[1] and shown[1]["size"] == 300
    assert shown[2]["unreadable"] is True and "fields" not in shown[2]


def test_without_a_catalog_entry_or_bytes_no_fields():
    data = struct.pack("<I", 40)
    b = block("lparam1", Phase.CALL, 0x1000, 4, data)
    assert "fields" not in memory_json([b], None, "x64", {b.sha256: data})[0]
    assert "fields" not in memory_json([b], message_memory(DriverClass.VFW, 0x400B), "x64", {})[0]


def test_rows_name_fields_with_offsets_a_null_pointer_and_what_was_not_captured():
    header = struct.pack("<IiiHHIIiiII", 40, 320, 240, 1, 24, 0, 320 * 240 * 3, 0, 0, 0, 0)
    params = struct.pack("<IIQQQQII", 0, 0, 0x1000, 0, 0x3000, 0x4000, 0, 0)
    blocks = [block("lparam1", Phase.CALL, 0x100, 48, params),
              block("lparam1.lpbiInput", Phase.CALL, 0x1000, 40, header),
              block("lparam1.lpOutput", Phase.CALL, 0x4000, 230400, b"", unreadable=True)]
    captured = CapturedBytes("x64", {b.sha256: d for b, d in zip(blocks, (params, header))}, first_bytes=16)
    message = message_memory(DriverClass.VFW, ICM_DECOMPRESS)
    rows = [row for b in blocks for row in block_rows(b, message, captured)]
    assert ("", "lpbiInput", "8", "0x1000 -> lparam1.lpbiInput") in rows and ("", "lpInput", "16", "0x0 (NULL)") in rows
    assert ("", "biHeight", "8", "240") in rows and ("", "biSizeImage", "20", "230400 (0x38400)") in rows
    assert ("lparam1.lpOutput", "bytes", "", "230400 B, unreadable: nothing captured") in rows
    assert not any(r[1] == "(bytes)" for r in rows)  # a bare header has nothing past its fields


def test_a_string_block_shows_its_text_and_its_bytes():
    name = "C:\\media\\tone.wav".encode("utf-16-le") + b"\0\0"
    b = block("lparam2.lpstrElementName", Phase.CALL, 0x5000, len(name), name)
    rows = block_rows(b, message_memory(DriverClass.MCI, MCI_OPEN_DRIVER), CapturedBytes("x64", {b.sha256: name}, 8))
    assert rows[0][:2] == ("lparam2.lpstrElementName", "text")
    assert ("", "(text)", "0", repr("C:\\media\\tone.wav")) in rows
    assert ("", "(bytes)", "0", f"{len(name)} B: 43 00 3a 00 5c 00 6d 00 ...") in rows
