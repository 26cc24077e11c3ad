"""decode_fields names the fields of captured struct bytes, for both ABIs."""

import struct

from hypothesis import given, settings, strategies as st

from drvtape.schema.memory.catalog import class_messages, message_memory
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.decode import decode_fields, field_at
from drvtape.schema.memory.structs import ACMDRVSTREAMHEADER, ICINFO


def test_a_bitmapinfoheader_decodes_to_its_fields():
    node = message_memory(DriverClass.VFW, 0x400D).node("lparam1.lpbiInput")
    data = struct.pack("<IiiHHIIiiII", 40, 320, -240, 1, 24, 0x6D617263, 1234, 0, 0, 0, 0)
    fields = decode_fields(node, "x64", data)
    assert fields["biWidth"] == 320 and fields["biHeight"] == -240 and fields["biBitCount"] == 24
    assert fields["biCompression"] == 0x6D617263 and fields["biSizeImage"] == 1234


def test_icinfo_text_and_fourccs():
    node = message_memory(DriverClass.VFW, 0x5002).node("lparam1")
    data = bytearray(ICINFO.size("x86"))
    struct.pack_into("<III", data, 0, len(data), int.from_bytes(b"vidc", "little"), int.from_bytes(b"MRLE", "little"))
    name = "MS-RLE".encode("utf-16-le")
    data[ICINFO.offset("szName", "x86"):ICINFO.offset("szName", "x86") + len(name)] = name
    fields = decode_fields(node, "x86", bytes(data))
    assert fields["fccType"] == "vidc" and fields["fccHandler"] == "MRLE" and fields["szName"] == "MS-RLE"
    assert fields["szDescription"] == ""


def test_a_truncated_block_decodes_the_fields_it_holds():
    node = message_memory(DriverClass.ACM, 0x604F).node("lparam2")
    fields = decode_fields(node, "x64", struct.pack("<II", 124, 0x20000))
    assert fields == {"cbStruct": 124, "fdwStatus": 0x20000}


def test_raw_memory_has_no_fields():
    node = message_memory(DriverClass.VFW, 0x400D).node("lparam1.lpOutput")
    assert decode_fields(node, "x64", b"\1\2\3") == {}


def test_field_at_names_the_field_holding_an_offset():
    assert field_at(ACMDRVSTREAMHEADER, "x64", 81) == "dwDriver"
    assert field_at(ACMDRVSTREAMHEADER, "x86", 56) == "dwDriver"
    assert field_at(ICINFO, "x64", ICINFO.offset("szName", "x64") + 5) == "szName[2]"
    assert field_at(ICINFO, "x64", 10_000) is None


@given(data=st.binary(max_size=1200), arch=st.sampled_from(["x64", "x86"]))
@settings(max_examples=60)
def test_any_bytes_decode_for_every_struct_node(data, arch):
    for cls in (DriverClass.VFW, DriverClass.ACM):
        for entry in class_messages(cls):
            for node in entry.nodes:
                fields = decode_fields(node, arch, data)
                if node.layout is not None:
                    assert set(fields) <= {f.name for f in node.layout.fields}
