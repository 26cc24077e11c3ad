"""The MCI class (issue 13 item 1) without Wine: an instance is MCI when DRV_OPEN received an
MCI_OPEN_DRIVER_PARMS (or its alias is an MCI device type), its MCI_* commands are named and
their parameter structs described, strings are sized up to their NUL, and replay passes
dwCallback (a window of the recording process) as 0 and never compares it."""

import struct

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay.memory_facts import catalog_lookup
from drvtape.schema.memory.catalog import message_memory, message_name, session_message_name
from drvtape.schema.memory.selector import MessageSelector, parse_selector
from drvtape.schema.memory.classes import (
    DriverClass, call_classes, class_of_open, fourcc, is_mci_open, session_class_hint,
)
from drvtape.schema.memory.decode import decode_text
from drvtape.schema.memory.sizes import BytesReader, evaluate_size
from drvtape.schema.messages import DRV_OPEN
from drvtape.schema.payloads import CallPayloads, RawBytes

from tests.test_memory_classes import Call, numbered

MCI_OPEN_DRIVER, MCI_CLOSE_DRIVER, MCI_SET, MCI_STATUS = 0x801, 0x802, 0x80D, 0x814


def mci_open_x64(device_id: int = 1, second: int = 0) -> bytes:
    """MCI_OPEN_DRIVER_PARMS (pshpack1, x64): wDeviceID, lpstrParams, wCustomCommandTable, wType."""
    return struct.pack("<IIIII", device_id, second, 0, 0xFFFF, 0x20A)


@pytest.mark.parametrize("data, mci", [
    (mci_open_x64(), True), (mci_open_x64(7)[:16], True), (mci_open_x64(0), False), (mci_open_x64(0x10000), False),
    (mci_open_x64()[:4], False), (mci_open_x64(56, fourcc("vidc")), False), (mci_open_x64(40, fourcc("audc")), False),
])
def test_an_mci_open_driver_parms_is_told_by_its_device_id(data, mci):
    assert is_mci_open(data) is mci
    assert class_of_open(CallPayloads(lparam2=RawBytes(hex=data.hex()))) is (DriverClass.MCI if mci else None)


@pytest.mark.parametrize("alias", ["waveaudio", "Sequencer", "AVIVideo", "cdaudio"])
def test_an_mci_device_type_alias_hints_mci(alias):
    assert session_class_hint(alias) is DriverClass.MCI


def test_the_commands_winmm_sends_are_named_in_an_mci_instance_only():
    calls = numbered(Call(DRV_OPEN, 0, CallPayloads(lparam2=RawBytes(hex=mci_open_x64().hex())), result=1),
                     Call(MCI_OPEN_DRIVER, 1), Call(MCI_STATUS, 1), Call(MCI_CLOSE_DRIVER, 1))
    assert call_classes(calls) == [DriverClass.DRV, DriverClass.MCI, DriverClass.MCI, DriverClass.MCI]
    assert [message_name(c, DriverClass.MCI) for c in (MCI_OPEN_DRIVER, MCI_STATUS, MCI_CLOSE_DRIVER)] == [
        "MCI_OPEN_DRIVER", "MCI_STATUS", "MCI_CLOSE_DRIVER"]
    assert message_name(MCI_STATUS) == "DRV_MCI_FIRST+20"
    assert message_name(0x841, DriverClass.MCI) == "MCI_WINDOW"  # named, of unknown meaning
    assert message_memory(DriverClass.MCI, 0x841) is None
    assert session_message_name(MCI_STATUS, {DriverClass.MCI, DriverClass.VFW}) == "MCI_STATUS"
    assert parse_selector("mci_status") == MessageSelector(MCI_STATUS, driver_class=DriverClass.MCI)
    assert parse_selector("MCI_OPEN_DRIVER") == MessageSelector(MCI_OPEN_DRIVER, driver_class=DriverClass.MCI)
    with pytest.raises(DrvtapeError, match="MCI_STATUS"):
        parse_selector("MCI_NO_SUCH")


def test_the_open_parameters_are_the_largest_variant_with_their_strings_followed():
    entry = message_memory(DriverClass.MCI, MCI_OPEN_DRIVER)
    assert [n.path for n in entry.nodes] == [
        "lparam2", "lparam2.lpstrDeviceType", "lparam2.lpstrElementName", "lparam2.lpstrAlias"]
    top = entry.node("lparam2")
    assert top.layout.name == "MCI_DGV_OPEN_PARMSW" and top.layout.size("x64") == 48 and top.layout.size("x86") == 28
    assert top.layout.offset("lpstrDeviceType", "x64") == 12  # pshpack1: right after wDeviceID
    assert entry.lparam1.startswith("MCI_NOTIFY, MCI_WAIT") and entry.lparam2 == "pointer to MCI_DGV_OPEN_PARMSW (in)"


def test_a_string_is_sized_up_to_and_with_its_nul():
    node = message_memory(DriverClass.MCI, MCI_OPEN_DRIVER).node("lparam2.lpstrElementName")
    data = "C:\\tone.wav".encode("utf-16-le") + b"\0\0garbage"
    assert evaluate_size(node, "x64", BytesReader({node.path: data})) == 2 * len("C:\\tone.wav") + 2
    assert evaluate_size(node, "x64", BytesReader({node.path: b"a\0" * 40000})) > node.size.cap  # no NUL: not read
    assert decode_text(node, data[:24]) == "C:\\tone.wav"


@pytest.mark.parametrize("msg", [MCI_OPEN_DRIVER, MCI_STATUS, MCI_SET, MCI_CLOSE_DRIVER])
@pytest.mark.parametrize("arch", ["x64", "x86"])
def test_replay_passes_dw_callback_as_zero_and_never_compares_it(msg, arch):
    facts = catalog_lookup(arch)("mci", msg).top(2)
    width = 8 if arch == "x64" else 4
    assert (0, width) in facts.skipped() and (0, width) in facts.zeroed


def test_mci_status_is_in_and_out_and_mci_set_the_largest_set_variant():
    status = message_memory(DriverClass.MCI, MCI_STATUS).node("lparam2")
    assert status.layout.name == "MCI_STATUS_PARMS" and status.direction.name == "INOUT"
    assert message_memory(DriverClass.MCI, MCI_SET).node("lparam2").layout.name == "MCI_WAVE_SET_PARMS"
