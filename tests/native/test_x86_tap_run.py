"""`tap run` and `tap install` for 32-bit programs (issue 13, item 3): the program's PE machine
picks Wine's 32-bit loader, the 32-bit prefix and the x86 tap, and the alias goes where a
32-bit process reads it: in a 32-bit prefix its one Drivers32 key, in a WoW64 prefix (a
64-bit one made with wine32 installed) the Wow6432Node key, which 64-bit programs do not
read. The 32-bit client's session replays 5 of 5; uninstall leaves the places as they were."""
import json
import os
import subprocess
import sys

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, X86
from drvtape.recorder.aliasplaces import DRIVERS32_FULL, registry
from drvtape.recorder.tapinstall import state_folder

from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)


@pytest.fixture
def alias(host_x86, request):
    name = f"drvtap.x{os.getpid()}.{request.node.name[-10:]}"
    yield name
    for arch in (X64, X86):
        assert registry(arch).get(name) is None, f"the alias was left installed for {arch.name}"
        assert not (state_folder(name, arch) / "install.json").exists()


def drvtape(db, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "drvtape", "--db", str(db), *args], env=env, capture_output=True,
                          text=True, timeout=300)


def replayed_5_of_5(db, session: str, real: str) -> None:
    replayed = drvtape(db, "replay", session, "--target", f"dll:{real}", "--repeat", "5", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["reproduced_runs"] == 5


def test_tap_run_records_a_32_bit_client_in_the_32_bit_prefix_and_it_replays_5_of_5(tmp_path, client_x86,
                                                                                  driver_x86, alias):
    real = driver_x86("thread_affinity")
    db = tmp_path / "r.db"
    run = drvtape(db, "tap", "run", "--alias", alias, "--real", real, "--json", "--", str(client_x86), alias,
                  "77", "88", env_extra={"TMPDIR": str(tmp_path)})  # the run's tape folder is made there
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert f"in Wine prefix {wine.prefix_dir(X86)}" in run.stderr
    (session,) = json.loads(run.stdout)["tapes"][0]["sessions"]
    assert session["end_reason"] == "closed" and session["calls"] > 0
    shown = json.loads(drvtape(db, "show", session["session"], "--json").stdout)
    assert shown["session"]["arch"] == "x86"
    replayed_5_of_5(db, session["session"], real)


def reg_query(prefix, alias: str, *view: str) -> subprocess.CompletedProcess:
    return subprocess.run([wine.wine_binary(X64), "reg", "query", DRIVERS32_FULL, "/v", alias, *view],
                          env=wine.wine_env(prefix), capture_output=True, text=True, timeout=120)


def test_in_a_wow64_prefix_the_32_bit_alias_goes_to_the_32_bit_view_where_the_client_reads_it(
        tmp_path, own_prefix, client_x86, driver_x86, alias):  # noqa: F811
    prefix = own_prefix  # a new 64-bit prefix, made with wine32 installed: WoW64
    assert (prefix / "drive_c" / "windows" / "syswow64" / "kernel32.dll").is_file()
    real = driver_x86("thread_affinity")
    db = tmp_path / "w.db"
    tape = tmp_path / "w.drvtape"
    env = {wine.PREFIX_ENV_X86: str(prefix)}
    installed = drvtape(db, "tap", "install", "--alias", alias, "--real", real, "--tape", str(tape), "--json",
                        env_extra=env)
    assert installed.returncode == 0, installed.stderr
    try:
        seen = {"32": reg_query(prefix, alias, "/reg:32"), "64": reg_query(prefix, alias)}
        assert seen["32"].returncode == 0 and "drvtap.dll" in seen["32"].stdout, seen
        assert seen["64"].returncode != 0  # 64-bit programs do not see it
        client = subprocess.run([wine.wine_binary(X86), str(client_x86), alias, "77", "88"],
                                env=wine.wine_env(prefix), cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert client.returncode == 0, (client.stdout, client.stderr)
    finally:
        removed = drvtape(db, "tap", "uninstall", "--alias", alias, "--json", env_extra=env)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["action"] == "deleted"
    assert reg_query(prefix, alias, "/reg:32").returncode != 0
    ingested = drvtape(db, "ingest", "--json", str(tape))
    assert ingested.returncode == 0, ingested.stderr
    (session,) = json.loads(ingested.stdout)["tapes"][0]["sessions"]
    replayed_5_of_5(db, session["session"], real)


def test_a_32_bit_program_with_a_64_bit_driver_is_refused_in_one_line_before_anything_is_made(
        tmp_path, client_x86, driver):
    db = tmp_path / "m.db"
    run = drvtape(db, "tap", "run", "--alias", "drvtap.mismatch", "--real", driver("thread_affinity"), "--",
                  str(client_x86), "drvtap.mismatch")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and run.stdout == "", run.stderr
    assert "is x64 and the program x86" in run.stderr and not db.exists()
