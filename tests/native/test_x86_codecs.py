"""Issue 10's codec sessions in 32-bit (issue 13, item 3): the codec client built with
i686-w64-mingw32-gcc drives Wine's i386-windows codecs through the real 32-bit stack
(msvfw32, msacm32) under Wine's 32-bit loader, with the x86 tap installed on each codec's
alias in a 32-bit prefix of these tests' own; every session ingests with its memory (4-byte
pointers, x86 layouts) and replays against the 32-bit DLL in the x86 drvhost 5 of 5, with
every output the driver wrote compared. The table codec x client -> sessions, reproduced,
outputs compared is printed (pytest -s)."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X86
from drvtape.dllhost.build import compile_pe
from drvtape.recorder.aliasplaces import DRIVERS32_FULL, SystemIni
from drvtape.recorder.tapinstall import install, status, uninstall

from tests.native import codec_sessions
from tests.native.codec_sessions import drvtape, ingested_sessions, record_codec, replayed_faithfully
from tests.native.conftest import WINE_DRIVERS, WINE_DRIVERS_X86, unavailable

X86_CODECS = ("msrle32.dll", "msadp32.acm", "imaadp32.acm")
TABLE: list[tuple[str, str, int, int, int]] = []


@pytest.fixture(scope="module")
def own_prefix_x86(host_x86, tmp_path_factory):
    """A 32-bit Wine prefix of this module's own: an alias pointed at the tap in the shared
    one would change what other tests see."""
    prefix = tmp_path_factory.mktemp("prefix") / "wineprefix-x86"
    saved = os.environ.get(wine.PREFIX_ENV_X86)
    os.environ[wine.PREFIX_ENV_X86] = str(prefix)
    try:
        wine.ensure_prefix(X86)
        yield prefix
    finally:
        subprocess.run([str(Path(wine.wine_binary(X86)).with_name("wineserver")), "-k"],
                       env=wine.wine_env(prefix), capture_output=True, timeout=60)
        if saved is None:
            del os.environ[wine.PREFIX_ENV_X86]
        else:
            os.environ[wine.PREFIX_ENV_X86] = saved


@pytest.fixture(scope="module")
def codec_client_x86(host_x86) -> Path:
    """codec_client.exe built as a 32-bit program."""
    return compile_pe(codec_sessions.CLIENT, flags=["-municode"], libs=codec_sessions.CLIENT_LIBS, arch=X86)


@pytest.fixture(scope="module")
def wine_codecs_x86(host_x86) -> Path:
    missing = [f for f in X86_CODECS if not (WINE_DRIVERS_X86 / f).is_file()]
    if missing:
        unavailable(f"Wine's 32-bit codecs {missing} are not in {WINE_DRIVERS_X86}")
    return WINE_DRIVERS_X86


def registry_export_x86(prefix: Path, tmp_path: Path) -> bytes:
    out = tmp_path / "drivers32.reg"
    proc = subprocess.run([wine.wine_binary(X86), "reg", "export", DRIVERS32_FULL, wine.windows_path(str(out)), "/y"],
                          env=wine.wine_env(prefix), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return out.read_bytes()


def test_a_32_bit_codec_alias_is_installed_on_its_system_ini_line_and_uninstall_restores_every_byte(
        own_prefix_x86, wine_codecs_x86, tmp_path):
    ini = own_prefix_x86 / "drive_c" / "windows" / "system.ini"
    ini_before, reg_before = ini.read_bytes(), registry_export_x86(own_prefix_x86, tmp_path)
    aliases = {codec_sessions.CODECS[real][0]: real for real in X86_CODECS}
    for alias, real in aliases.items():
        done = install(alias, str(wine_codecs_x86 / real))
        assert done["arch"] == "x86" and [p["place"] for p in done["places"]] == ["system.ini"]
        assert SystemIni(ini).get(alias).data == wine.windows_path(done["tap"])
        assert status(alias)["intact"] and status(alias)["arch"] == "x86"
    assert registry_export_x86(own_prefix_x86, tmp_path) == reg_before  # nothing added beside the lines
    for alias in aliases:
        assert uninstall(alias)["action"] == "restored"
    assert ini.read_bytes() == ini_before
    assert registry_export_x86(own_prefix_x86, tmp_path) == reg_before


@pytest.mark.parametrize("real", X86_CODECS)
def test_every_32_bit_codec_session_replays_5_of_5_with_its_outputs_compared(own_prefix_x86, codec_client_x86,
                                                                             codec_media, wine_codecs_x86, tmp_path,
                                                                             real):
    for run in record_codec(codec_client_x86, wine_codecs_x86, real, codec_media, tmp_path):
        assert run.tapped == run.plain and "failed" not in run.plain, run.args  # same checksums with the tap
        db = tmp_path / f"{run.tape.stem}.db"
        sessions = ingested_sessions(db, run)
        reproduced = compared = 0
        for session in sessions:
            shown = json.loads(drvtape(db, "show", session["session"], "--json").stdout)
            assert shown["session"]["arch"] == "x86"
            report = replayed_faithfully(db, run, session, wine_codecs_x86 / real)
            reproduced += 1
            compared += report["outputs_compared"]
        assert compared > 0, run.args  # the conversions and round trips wrote memory that was compared
        refused = drvtape(db, "replay", sessions[-1]["session"], "--target", f"dll:{WINE_DRIVERS / real}")
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr  # the 64-bit build
        assert refused.stderr.endswith("its memory has x86 layouts and drvhost is x64\n"), refused.stderr
        TABLE.append((real, " ".join(run.args), len(sessions), reproduced, compared))


def teardown_module() -> None:
    if TABLE:
        print("\n32-bit codec | client | sessions | reproduced 5/5 | outputs compared")
        for row in TABLE:
            print(" | ".join(map(str, row)))
