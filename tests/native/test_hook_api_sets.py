"""`drvtape hook run` of a program that imports GetProcAddress, LoadLibraryW and CreateProcessW
from API sets (tapclient linked against mingw-w64's API-set import library, libwindowsapp):
its lookups of acmDriverAddW are patched as kernel32's are, and with --follow-children the
children it starts through the API-set CreateProcessW, or through shell32's ShellExecuteExW, are
hooked and their drivers recorded."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe

CLIENTS = Path(__file__).parent / "clients"
API_SETS = (b"api-ms-win-core-libraryloader-l1-", b"api-ms-win-core-processthreads-l1-")


@pytest.fixture(scope="module")
def api_set_client(host) -> Path:
    built = compile_pe([CLIENTS / "tapclient.c"], flags=["-municode"], libs=["-lwindowsapp"])
    image = built.read_bytes()
    assert all(name in image for name in API_SETS)  # the import names the loader resolves to their host
    return built


def drvtape(tmp_path, *args):
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "a.db"), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(tmp_path)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def sessions(run) -> list[dict]:
    assert run.returncode == 0, (run.stdout, run.stderr)
    return [s for tape in json.loads(run.stdout)["tapes"] for s in tape["sessions"]]


def test_an_acm_function_added_through_an_api_set_get_proc_address_is_recorded(tmp_path, api_set_client, driver):
    argv = [str(api_set_client), wine.windows_path(driver("codec_stub")), "acmexit"]
    command, env = wine.command(argv[0])
    plain = subprocess.run([*command, *argv[1:]], env=env, capture_output=True, text=True, timeout=300)
    hooked = drvtape(tmp_path, "hook", "run", "--json", "--", *argv)
    (session,) = sessions(hooked)
    assert session["calls"] > 0 and session["end_reason"] == "process-exit"
    assert plain.returncode == 0 and plain.stdout and plain.stdout in hooked.stderr


@pytest.mark.parametrize("mode", ["child", "shellchild"])
def test_a_child_started_through_an_api_set_or_shell_execute_is_followed(tmp_path, api_set_client, driver, mode):
    real = driver("thread_affinity")
    argv = [str(api_set_client), wine.windows_path(real), mode, "77", "88"]  # the child opens the driver
    (session,) = sessions(drvtape(tmp_path, "hook", "run", "--follow-children", "--json", "--", *argv))
    assert session["end_reason"] == "closed" and session["calls"] == 12
    replayed = drvtape(tmp_path, "replay", session["session"], "--target", f"dll:{real}", "--repeat", "5", "--json")
    assert json.loads(replayed.stdout)["reproduced_runs"] == 5, replayed.stderr
