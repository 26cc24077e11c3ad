"""What a user sees when the tools are missing or the DLL is not a driver: one line, DrvtapeError."""
from __future__ import annotations

import os

import pytest

from drvtape.dllhost import HostCall, host_available, run_dll
from drvtape.errors import DrvtapeError

LOAD = [HostCall(seq=1, thread=0, driver_id=0, hdrvr=0, msg=1, lparam1=0, lparam2=0)]


@pytest.mark.parametrize("env, package", [
    pytest.param("DRVTAPE_WINE", "wine64", marks=pytest.mark.skipif(os.name == "nt", reason="no Wine on Windows")),
    ("DRVTAPE_MINGW_GCC", "gcc-mingw-w64-x86-64"),
])
def test_a_missing_tool_names_its_debian_package(monkeypatch, tmp_path, env, package):
    monkeypatch.setenv(env, str(tmp_path / "missing"))
    with pytest.raises(DrvtapeError) as e:
        host_available()
    message = str(e.value)
    assert package in message and "\n" not in message


def test_missing_dll(host, tmp_path):
    with pytest.raises(DrvtapeError, match="no such driver DLL"):
        run_dll(str(tmp_path / "nothere.dll"), LOAD)


def test_a_file_that_is_not_a_dll(host, tmp_path):
    bogus = tmp_path / "bogus.dll"
    bogus.write_text("not a PE file")
    with pytest.raises(DrvtapeError, match=r"cannot load .*bogus\.dll") as e:
        run_dll(str(bogus), LOAD)
    assert "\n" not in str(e.value)


def test_a_dll_without_driverproc(driver):
    with pytest.raises(DrvtapeError, match="does not export DriverProc"):
        run_dll(driver("no_driverproc"), LOAD)


def test_a_dllmain_that_never_returns(driver):
    with pytest.raises(DrvtapeError, match="loading the DLL did not finish within 500 ms"):
        run_dll(driver("dllmain_hang"), LOAD, timeout_s=0.5)
