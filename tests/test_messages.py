"""The DRV_* catalog against domain.md's table, and message-name parsing."""

import re
from pathlib import Path

import pytest

from drvtape.errors import DrvtapeError
from drvtape.recorder.hook import Recorder
from drvtape.schema.messages import (
    CATALOG, DRV_CONFIGURE, DRV_OPEN, DRV_USER, describe, message_name, parse_message, pointer_kind,
)
from drvtape.schema.payloads import IcOpen, Pointer

# domain.md, "The messages (mmsystem.h values)"
DOMAIN_TABLE = {
    0x0001: "DRV_LOAD", 0x0002: "DRV_ENABLE", 0x0003: "DRV_OPEN", 0x0004: "DRV_CLOSE",
    0x0005: "DRV_DISABLE", 0x0006: "DRV_FREE", 0x0007: "DRV_CONFIGURE", 0x0008: "DRV_QUERYCONFIGURE",
    0x0009: "DRV_INSTALL", 0x000A: "DRV_REMOVE", 0x000B: "DRV_EXITSESSION",
    0x000C: "DRV_EXITAPPLICATION", 0x000F: "DRV_POWER", 0x0800: "DRV_MCI_FIRST", 0x4000: "DRV_USER",
}


@pytest.mark.parametrize(("code", "name"), DOMAIN_TABLE.items())
def test_every_code_in_the_domain_table_has_its_name(code, name):
    assert message_name(code) == name
    assert parse_message(name) == code


@pytest.mark.parametrize(("code", "name"), [(0x4001, "DRV_USER+1"), (0x4000 + 0x100, "DRV_USER+256"),
                                            (0xFFFFFFFF, f"DRV_USER+{0xFFFFFFFF - 0x4000}")])
def test_private_messages_are_named_from_drv_user(code, name):
    assert message_name(code) == name
    assert parse_message(name) == code


def test_the_mci_range_is_named_from_drv_mci_first_up_to_drv_mci_last():
    # mmsystem.h: DRV_MCI_LAST is (DRV_RESERVED + 0xFFF) = 0x17FF (domain.md's "0x0FFF" is the offset)
    assert message_name(0x0801) == "DRV_MCI_FIRST+1"
    assert message_name(0x0FFF) == "DRV_MCI_FIRST+2047"
    assert message_name(0x17FF) == "DRV_MCI_LAST"
    assert message_name(0x1800) == "0x1800"  # just past the range
    assert parse_message("DRV_MCI_FIRST+1") == 0x0801
    assert parse_message("drv_reserved") == 0x0800


@pytest.mark.parametrize("code", [0x0000, 0x000D, 0x000E, 0x0010, 0x07FF, 0x3FFF])
def test_unknown_codes_are_kept_and_shown_as_hex(code):
    assert message_name(code) == f"0x{code:04X}"
    assert parse_message(message_name(code)) == code
    assert describe(code).code == code


@pytest.mark.parametrize("text", ["DRV_EXITSESSION", "drv_exitsession", "exitsession", "ExitSession",
                                  " EXITSESSION ", "11", "0xB", "0x000b"])
def test_names_parse_in_any_case_with_or_without_drv_and_as_numbers(text):
    assert parse_message(text) == 0x000B


@pytest.mark.parametrize("text", ["user+1", "DRV_USER+0x1", "drv_user + 1", "16385", "0x4001"])
def test_drv_user_plus_n_parses_every_way(text):
    assert parse_message(text) == 0x4001


@pytest.mark.parametrize("text", ["DRV_BOGUS", "exit", "", "DRV_USER+x", "DRV_USER+-1", "0x1FFFFFFFF", "-1"])
def test_bad_message_names_are_user_errors_naming_the_text(text):
    with pytest.raises(DrvtapeError) as err:
        parse_message(text)
    assert repr(text) in str(err.value) or text.strip() in str(err.value)


def test_pointer_parameters_are_known_for_open_and_configuration_messages():
    assert describe(0x0003).pointer1 is not None  # DRV_OPEN: section name
    assert describe(0x0007).pointer2 is not None  # DRV_CONFIGURE: DRVCONFIGINFO*
    assert describe(0x000B).pointer1 is None and describe(0x000B).pointer2 is None


def test_drvtap_copies_the_pointers_the_catalog_names():
    """The catalog is where pointer parameters are known; the C tap's switch must agree with it."""
    source = (Path(__file__).parents[1] / "native" / "drvtap" / "record.c").read_text(encoding="utf-8")
    body = source[source.index("unsigned add_payloads("):]
    switch = body[body.index("switch (msg) {"):body.index("\n}")]
    kinds = {"wstr": Pointer.WSTR, "open_struct": Pointer.OPEN_STRUCT, "drvconfiginfo": Pointer.DRVCONFIGINFO}
    in_c: dict[tuple[int, int], Pointer] = {}
    labels: list[str] = []
    for line in switch.splitlines():
        labels += re.findall(r"case (DRV_\w+):", line)
        for kind, param in re.findall(r"add_(\w+)_payload\(&?b, (\d)", line):
            in_c.update({(parse_message(name), int(param)): kinds[kind] for name in labels})
        if "return" in line or "break;" in line:
            labels = []
    in_catalog = {(code, n): pointer_kind(code, n) for code in CATALOG for n in (1, 2) if pointer_kind(code, n)}
    assert in_c == in_catalog


def test_the_hook_refuses_data_the_catalog_says_a_parameter_cannot_point_to(tmp_path):
    with Recorder(tmp_path / "p.db", driver="p") as rec:
        hooked = rec.wrap(lambda *_: 1)
        assert hooked(0, 1, DRV_OPEN, "section", IcOpen(dwSize=56, fccType=1, fccHandler=2)) == 1
        assert hooked(0, 1, DRV_USER + 1, "anything", b"\x00") == 1  # driver-defined: any data
        with pytest.raises(TypeError, match="DRV_CONFIGURE's lParam2 points to DRVCONFIGINFO data, not a str"):
            hooked(0, 1, DRV_CONFIGURE, 0, "not a DRVCONFIGINFO")
