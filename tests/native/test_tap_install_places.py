"""`tap install` changes an alias where the system reads it (issue 11, item 3). Under Wine
8.0 a new prefix keeps every alias in system.ini's [drivers32], and msacm32's driver list
and msvfw32's ICInfo read both the registry and system.ini: a registry value beside the
system.ini line listed each driver twice (8 ACM drivers instead of 6, 6 codecs instead of
3). Installed on the system.ini line, applications see the same list with the tap, and
uninstall leaves the registry and system.ini byte-identical.

These tests use a Wine prefix of their own: other tests share drvtape's, and an alias
pointed at the tap there would change what they see."""
import os
import subprocess
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.recorder.aliasplaces import DRIVERS32_FULL, SystemIni, places, registry
from drvtape.recorder.tapinstall import install, status, uninstall

DRVLIST = Path(__file__).parent / "clients" / "drvlist.c"
ALIASES = {"msacm.imaadpcm": "imaadp32.acm", "vidc.mrle": "msrle32.dll"}


@pytest.fixture(scope="module")
def own_prefix(host, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix") / "wineprefix"
    saved = os.environ.get(wine.PREFIX_ENV)
    os.environ[wine.PREFIX_ENV] = str(prefix)
    try:
        wine.ensure_prefix()
        yield prefix
    finally:
        subprocess.run([str(Path(wine.wine_binary()).with_name("wineserver")), "-k"],
                       env=wine.wine_env(prefix), capture_output=True, timeout=60)
        if saved is None:
            del os.environ[wine.PREFIX_ENV]
        else:
            os.environ[wine.PREFIX_ENV] = saved


def driver_list(tmp_path: Path) -> list[str]:
    argv, env = wine.command(compile_pe([DRVLIST]))
    proc = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return proc.stdout.splitlines()


def registry_export(tmp_path: Path) -> bytes:
    out = tmp_path / "drivers32.reg"
    argv, env = wine.command(Path("reg"))
    proc = subprocess.run([*argv, "export", DRIVERS32_FULL, wine.windows_path(str(out)), "/y"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return out.read_bytes()


def test_the_driver_list_is_the_same_with_the_tap_and_uninstall_restores_every_byte(own_prefix, tmp_path,
                                                                                     wine_drivers):
    ini = own_prefix / "drive_c" / "windows" / "system.ini"
    ini_before, reg_before = ini.read_bytes(), registry_export(tmp_path)
    listed = driver_list(tmp_path)
    assert listed[-1] == "acm 6 vidc 3"  # Wine 8.0's new prefix: 5 system.ini ACM drivers and msacm32's PCM
    assert all(registry().get(alias) is None for alias in ALIASES)  # all in system.ini

    for alias, real in ALIASES.items():
        done = install(alias, str(wine_drivers / real), tape=str(tmp_path / f"{alias}.drvtape"))
        assert [p["place"] for p in done["places"]] == ["system.ini"]
        assert status(alias)["intact"] and status(alias)["points_at_tap"]
    assert registry_export(tmp_path) == reg_before  # nothing added beside the system.ini lines
    assert SystemIni(ini).get("vidc.mrle").data == wine.windows_path(status("vidc.mrle")["tap"])
    assert driver_list(tmp_path) == listed
    assert (tmp_path / "msacm.imaadpcm.drvtape").stat().st_size > 0  # the list went through the tap

    for alias in ALIASES:
        assert uninstall(alias)["action"] == "restored"
    assert ini.read_bytes() == ini_before
    assert registry_export(tmp_path) == reg_before
    assert driver_list(tmp_path) == listed


def test_an_alias_in_the_registry_and_system_ini_is_changed_in_both(own_prefix, tmp_path, wine_drivers):
    ini = own_prefix / "drive_c" / "windows" / "system.ini"
    ini_before = ini.read_bytes()
    registry().put("vidc.msvc", "msvidc32.dll", None)
    try:
        reg_before = registry_export(tmp_path)
        listed = driver_list(tmp_path)
        assert listed.count("vidc msvc") == 2  # listed from both places, with or without the tap
        done = install("vidc.msvc", str(wine_drivers / "msvidc32.dll"), tape=str(tmp_path / "msvc.drvtape"))
        assert [p["place"] for p in done["places"]] == ["registry", "system.ini"]
        assert all(place.get("vidc.msvc").data == wine.windows_path(done["tap"]) for place in places())
        assert driver_list(tmp_path) == listed
        uninstall("vidc.msvc")
        assert ini.read_bytes() == ini_before and registry_export(tmp_path) == reg_before
    finally:
        registry().delete("vidc.msvc")
