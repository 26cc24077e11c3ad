"""`drvtape tap install/uninstall` under Wine: a Drivers32 alias pointed at drvtap and back.

A winmm client opening the alias records a tape through the installed tap (the real driver
and the tape come from the drvtap.cfg install wrote, no environment); it ingests and replays
against the real driver; uninstall puts back exactly the value that was there, or deletes the
alias when there was none."""
import json
import os
import shutil
import subprocess
import sys

import drvtape.cli.tap  # noqa: F401  (registers `drvtape tap`)
import pytest

from drvtape.dllhost import wine
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN, DRV_USER
from drvtape.store import Store
from drvtape.recorder.aliasplaces import DRIVERS32_FULL, Entry as RegValue, registry
from drvtape.recorder.tapinstall import state_folder

from test_drvtap import ingest, messages


@pytest.fixture
def alias(host, request):
    """A fresh alias name, removed from the registry (and the install record) afterwards."""
    name = f"drvtap.i{os.getpid()}.{request.node.name[-12:]}"
    yield name
    shutil.rmtree(state_folder(name), ignore_errors=True)
    registry().delete(name)


def run_alias(client, alias: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    argv, env = wine.command(client)
    env = dict(env or os.environ)
    for name in ("DRVTAP_REAL", "DRVTAP_TAPE", "DRVTAP_FLUSH"):
        env.pop(name, None)
    return subprocess.run([*argv, alias, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_install_records_through_the_alias_and_uninstall_deletes_a_new_alias(tmp_path, client, driver, drvtape, alias):
    real = driver("thread_affinity")
    tape = tmp_path / "installed.drvtape"
    assert registry().get(alias) is None
    run = drvtape("tap", "install", "--alias", alias, "--real", real, "--tape", tape, "--json")
    assert run.code == 0, run.stderr
    done = json.loads(run.stdout)
    assert done["action"] == "installed" and done["original"] is None
    value = registry().get(alias)
    assert value == RegValue("REG_SZ", wine.windows_path(done["tap"]))
    lines = open(done["cfg"], encoding="utf-8").read().splitlines()
    assert lines == [wine.windows_path(real), wine.windows_path(str(tape))]

    proc = run_alias(client, alias, "77", "88", cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    doc = ingest(drvtape, tmp_path / "t.db", tape)
    (session,) = doc["tapes"][0]["sessions"]
    assert session["end_reason"] == "closed"
    with Store.open(tmp_path / "t.db") as store:
        stored = store.resolve(session["session"])
        events = store.events(stored.pk)
    assert stored.header.driver == wine.windows_path(real)
    seen = [m for m, *_ in messages(events)]
    assert seen.count(DRV_OPEN) == 3 and seen.count(DRV_CLOSE) == 3 and DRV_USER + 1 in seen
    proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tmp_path / "t.db"), "replay",
                           session["session"], "--target", f"dll:{real}", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert json.loads(proc.stdout)["reproduced"]

    run = drvtape("tap", "uninstall", "--alias", alias)
    assert run.code == 0, run.stderr
    assert registry().get(alias) is None  # it did not exist before: deleted


def test_uninstall_restores_exactly_the_original_value(client, driver, drvtape, alias):
    original = RegValue("REG_EXPAND_SZ", r"%SystemRoot%\system32\msrle32.dll  two  spaces")
    registry().set(alias, original)
    run = drvtape("tap", "install", "--alias", alias, "--real", driver("thread_affinity"), "--json")
    assert run.code == 0, run.stderr
    done = json.loads(run.stdout)
    assert done["original"] == {"type": original.type, "data": original.data}
    now = registry().get(alias)
    assert now.type == "REG_SZ" and now.data.split(" ", 1)[0] == wine.windows_path(done["tap"])
    assert now.data.split(" ", 1)[1] == " two  spaces"  # the original's DRV_OPEN arguments are kept
    status = drvtape("tap", "status", "--alias", alias, "--json")
    assert status.code == 0 and json.loads(status.stdout)["intact"]
    run = drvtape("tap", "uninstall", "--alias", alias)
    assert run.code == 0, run.stderr
    assert registry().get(alias) == original
    out = subprocess.run([*wine.command(client)[0][:1], "reg", "query", DRIVERS32_FULL, "/v", alias],
                         env=wine.command(client)[1], capture_output=True, text=True, timeout=120)
    assert "REG_EXPAND_SZ" in out.stdout and original.data in out.stdout


def test_installing_twice_is_refused_unless_it_is_the_same_install(driver, drvtape, alias):
    real = driver("thread_affinity")
    assert drvtape("tap", "install", "--alias", alias, "--real", real).code == 0
    again = drvtape("tap", "install", "--alias", alias, "--real", real, "--json")
    assert again.code == 0 and json.loads(again.stdout)["action"] == "already installed"
    other = drvtape("tap", "install", "--alias", alias, "--real", driver("sleeper"))
    assert other.code == 2 and "already installed" in other.stderr and len(other.stderr.splitlines()) == 1
    before = registry().get(alias)
    assert drvtape("tap", "uninstall", "--alias", alias).code == 0
    # an alias already pointing at some drvtap.dll drvtape did not install: refused, nothing changed
    registry().set(alias, before)
    foreign = drvtape("tap", "install", "--alias", alias, "--real", real)
    assert foreign.code == 2 and "did not install" in foreign.stderr and len(foreign.stderr.splitlines()) == 1
    assert registry().get(alias) == before


def test_uninstalling_an_alias_not_installed_is_a_clear_error(drvtape, alias, host):
    run = drvtape("tap", "uninstall", "--alias", alias)
    assert run.code == 2 and run.stderr.startswith("drvtape: error: alias") and "not installed" in run.stderr
    assert len(run.stderr.splitlines()) == 1
