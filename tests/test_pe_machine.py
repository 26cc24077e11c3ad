"""dll: picks drvhost's architecture by the DLL's PE machine field (drvtape.dllhost.pe); a DLL
of another machine, or a file that is not PE, is one clear line before any host starts."""
import struct
from pathlib import Path

import pytest

from drvtape.dllhost.arch import X64, X86
from drvtape.dllhost.pe import pe_arch, pe_machine
from drvtape.errors import DrvtapeError
from drvtape.replay import dll as replay_dll

NT_AT = 0x80


def pe_file(path: Path, machine: int) -> Path:
    """The smallest file pe_machine reads: an MZ header pointing at "PE\\0\\0" and the machine."""
    dos = bytearray(NT_AT)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, NT_AT)
    path.write_bytes(bytes(dos) + b"PE\0\0" + struct.pack("<H", machine) + bytes(18))
    return path


@pytest.mark.parametrize(("machine", "arch"), [(0x8664, X64), (0x014C, X86)])
def test_the_machine_field_names_the_architecture(tmp_path, machine, arch):
    dll = pe_file(tmp_path / "d.dll", machine)
    assert pe_machine(dll) == machine and pe_arch(dll) is arch


@pytest.mark.parametrize(("content", "says"), [
    (b"", "no MZ header"),
    (b"MZ" + bytes(10), "no MZ header"),  # cut before e_lfanew
    (b"MZ" + bytes(0x3A) + struct.pack("<I", 0x1000), "no PE header"),  # e_lfanew past the end
    (b"not a PE file", "no MZ header"),
])
def test_a_file_that_is_not_pe_is_one_line(tmp_path, content, says):
    bogus = tmp_path / "bogus.dll"
    bogus.write_bytes(content)
    with pytest.raises(DrvtapeError) as e:
        pe_arch(bogus)
    assert str(e.value) == f"cannot load {bogus}: not a Windows DLL or program ({says})"


def test_an_arm64_dll_is_refused_naming_its_machine(tmp_path):
    with pytest.raises(DrvtapeError) as e:
        pe_arch(pe_file(tmp_path / "arm.dll", 0xAA64))
    assert "built for ARM64 (PE machine 0xaa64)" in str(e.value) and "\n" not in str(e.value)


def test_replay_against_an_arm64_dll_exits_2_in_one_line_before_a_host_starts(tmp_path, drvtape, tape_db,
                                                                             monkeypatch):
    monkeypatch.setattr(replay_dll, "host_available", lambda: None)  # the refusal needs no tools
    pe_file(tmp_path / "arm.dll", 0xAA64)
    monkeypatch.chdir(tmp_path)
    run = drvtape("--db", tape_db, "replay", "last", "--target", "dll:arm.dll")
    assert run.code == 2 and run.stderr.count("\n") == 1 and run.stdout == ""
    assert run.stderr.startswith("drvtape: error: cannot load ") and "ARM64 (PE machine 0xaa64)" in run.stderr
