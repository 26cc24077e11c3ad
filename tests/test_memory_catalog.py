"""The catalog covers every ICM_* message of mingw's vfw.h and every ACMDM_* message of
Wine's msacmdrv.h, and every entry is well formed: pointers followed, sizes readable."""

import re
from pathlib import Path

import pytest

from drvtape.schema.memory.catalog import catalog, class_messages, message_memory, message_name
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.layout import ARCHES
from drvtape.schema.memory.sizes import SizeOp
from drvtape.schema.memory.spec import Direction

VFW_H = Path("/usr/share/mingw-w64/include/vfw.h")
DRV_USER = 0x4000
# Wine's include/msacmdrv.h (wine-mirror/wine): every ACMDM_* message, as ACMDM_BASE + n
WINE_ACMDM = {
    "ACMDM_DRIVER_NOTIFY": 1, "ACMDM_DRIVER_DETAILS": 10, "ACMDM_DRIVER_ABOUT": 11,
    "ACMDM_HARDWARE_WAVE_CAPS_INPUT": 20, "ACMDM_HARDWARE_WAVE_CAPS_OUTPUT": 21,
    "ACMDM_FORMATTAG_DETAILS": 25, "ACMDM_FORMAT_DETAILS": 26, "ACMDM_FORMAT_SUGGEST": 27,
    "ACMDM_FILTERTAG_DETAILS": 50, "ACMDM_FILTER_DETAILS": 51,
    "ACMDM_STREAM_OPEN": 76, "ACMDM_STREAM_CLOSE": 77, "ACMDM_STREAM_SIZE": 78, "ACMDM_STREAM_CONVERT": 79,
    "ACMDM_STREAM_RESET": 80, "ACMDM_STREAM_PREPARE": 81, "ACMDM_STREAM_UNPREPARE": 82, "ACMDM_STREAM_UPDATE": 83,
}


def vfw_messages() -> dict[str, int]:
    bases = {"ICM_USER": DRV_USER, "ICM_RESERVED": DRV_USER + 0x1000}
    found = {}
    for name, base, offset in re.findall(r"#define (ICM_\w+) \((ICM_USER|ICM_RESERVED)\+(\d+)\)", VFW_H.read_text()):
        found[name] = bases[base] + int(offset)
    return found


def test_every_icm_message_of_vfw_h_is_named():
    messages = vfw_messages()
    assert len(messages) > 50
    assert {name: message_name(code, DriverClass.VFW) for name, code in messages.items()} == \
        {name: name for name in messages}


def test_every_acmdm_message_of_msacmdrv_h_is_named():
    assert {name: message_name(0x6000 + n, DriverClass.ACM) for name, n in WINE_ACMDM.items()} == \
        {name: name for name in WINE_ACMDM}


def test_named_only_messages_have_no_catalog_entry():
    for cls, names in catalog().named_only.items():
        for code in names:
            assert message_memory(cls, code) is None


@pytest.mark.parametrize("cls", [DriverClass.VFW, DriverClass.ACM])
def test_entries_are_well_formed(cls):
    for entry in class_messages(cls):
        paths = [n.path for n in entry.nodes]
        assert len(paths) == len(set(paths)), entry.name
        for index, node in enumerate(entry.nodes):
            assert node.path.startswith(f"lparam{node.param}")
            if node.parent is not None:
                assert paths.index(node.parent) < index  # a parent before its children
            assert paths.index(node.size_source) <= index or node.size_source == node.parent
            assert node.size.cap > 0
            for arch in ARCHES:
                if node.size.op == SizeOp.FIELD:
                    placed = node.source_layout.field(node.size.field, arch)
                    assert placed.size in (2, 4, 8)
                for offset, width, child in node.pointer_fields(arch):
                    assert width == {"x64": 8, "x86": 4}[arch] and child in paths
                for offset, width in node.driver_owned(arch):
                    assert offset + width <= node.layout.size(arch)


def test_what_the_issue_names():
    decompress = message_memory(DriverClass.VFW, 0x400D)
    assert [n.path for n in decompress.nodes] == [
        "lparam1", "lparam1.lpbiInput", "lparam1.lpInput", "lparam1.lpbiOutput", "lparam1.lpOutput"]
    assert decompress.node("lparam1.lpOutput").direction is Direction.INOUT
    assert decompress.node("lparam1.lpInput").size.op is SizeOp.DIB_IMAGE
    convert = message_memory(DriverClass.ACM, 0x604F)
    assert convert.node("lparam2").driver_owned("x64") == [(76, 4), (80, 8)]
    assert convert.node("lparam1").driver_owned("x86") == [(28, 4), (32, 4)]
    assert convert.node("lparam2.pbDst").size.field == "cbDstLength"
    assert message_memory(DriverClass.ACM, 0x604C).node("lparam1").lifetime == ("until", ("ACMDM_STREAM_CLOSE",))
    assert message_memory(DriverClass.ACM, 0x604C).node("lparam1.pwfxSrc").lifetime == \
        ("until", ("ACMDM_STREAM_CLOSE",))
    assert message_memory(DriverClass.ACM, 0x6051).node("lparam2").lifetime == ("until", ("ACMDM_STREAM_UNPREPARE",))
    assert message_memory(DriverClass.VFW, 0x400C).node("lparam2").lifetime == ("until", ("ICM_DECOMPRESS_END",))
    assert message_memory(DriverClass.VFW, 0x400E).nodes == ()
