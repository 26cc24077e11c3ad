"""The DRV_* catalog against domain.md's table, and message-name parsing."""

import pytest

from drvtape.errors import DrvtapeError
from drvtape.schema.messages import describe, message_name, parse_message

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
