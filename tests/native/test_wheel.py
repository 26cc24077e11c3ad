"""drvtape installed from a built wheel, in a fresh environment outside the checkout: `dll:`
replay and `tap` work with the drvhost/drvtap the wheel ships built (no compiler needed), and,
from a wheel built without mingw-w64, from the C sources it ships, built into that user's
cache on first use with a line on stderr saying so."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from drvtape.dllhost import wine
from drvtape.dllhost.build import compile_pe
from drvtape.schema.messages import DRV_CLOSE, DRV_DISABLE, DRV_ENABLE, DRV_FREE, DRV_LOAD, DRV_OPEN, DRV_QUERYCONFIGURE
from drvtape.schema.payloads import CallPayloads, IcOpen
from drvtape.store import Store

from test_drvtap import CLIENT_SOURCE
from test_replay_dll_target import RECORDED_ID, fourcc, learn, store_session

CHECKOUT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("wheel")  # one worker builds and installs the wheel once


def checkout_copy(dest: Path) -> Path:
    """The files a fresh clone has (tracked, plus new ones not ignored), so no stale build/
    folder of this checkout leaks into the wheel."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=CHECKOUT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = CHECKOUT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(host, tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding only the wheel (its dependencies come from this environment
    through a .pth file, so no package index is needed)."""
    if shutil.which("git") is None or not (CHECKOUT / ".git").exists():
        pytest.skip("needs a git checkout to build the wheel from")
    tmp = tmp_path_factory.mktemp("wheel")
    source = checkout_copy(tmp / "src")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("drvtape-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run([*pip, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site) / "drvtape_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return venv / "bin"


@pytest.fixture(scope="module")
def sources_only(installed, tmp_path_factory) -> list[str]:
    """The same install as from a wheel built where mingw-w64 was missing: no bin/ folder."""
    copy = tmp_path_factory.mktemp("sources-only") / "venv"
    shutil.copytree(installed.parent, copy, symlinks=True)
    python = copy / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    shutil.rmtree(Path(site) / "drvtape" / "_native" / "bin")
    return [str(python), "-m", "drvtape"]  # the copied script's #! names the first venv's python


@pytest.fixture
def user(tmp_path) -> dict[str, str]:
    """A user who never ran drvtape (an empty cache), sharing the run's Wine prefix, with no
    drvtape on PATH and no checkout on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), DRVTAPE_WINEPREFIX=str(wine.prefix_dir()),
               PATH=os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                    if d and not (Path(d) / "drvtape").exists()))
    return env


def run(drvtape: list[str], env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*drvtape, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def msrle32_session(db: Path, wine_drivers: Path) -> tuple[str, str]:
    dll = str(wine_drivers / "msrle32.dll")
    icopen = CallPayloads(lparam2=IcOpen(dwSize=48, fccType=fourcc("vidc"), fccHandler=fourcc("mrle"), dwFlags=1))
    calls = [(DRV_LOAD, 0, None), (DRV_ENABLE, 0, None), (DRV_OPEN, 0, icopen),
             (DRV_QUERYCONFIGURE, RECORDED_ID, None), (DRV_CLOSE, RECORDED_ID, None),
             (DRV_DISABLE, 0, None), (DRV_FREE, 0, None)]
    return store_session(db, dll, calls, learn(dll, calls)), dll


def test_the_wheel_ships_the_native_sources_and_binaries_and_runs_from_its_own_files(installed, user, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c",
                            "import drvtape, drvtape.dllhost.sources as s; print(drvtape.__file__); "
                            "print(s.native_root())"], env=user, cwd=tmp_path, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    package, native = map(Path, where.stdout.split())
    assert package.is_relative_to(installed.parent) and not package.is_relative_to(CHECKOUT)
    assert native == package.parent / "_native"
    for name in ("drvhost/drvhost.c", "drvtap/drvtap.c", "drvtap/drvtap.h", "bin/drvhost.exe", "bin/drvtap.dll"):
        assert (native / name).is_file(), name


def test_dll_replay_from_the_wheel_needs_no_compiler(installed, user, tmp_path, wine_drivers):
    session, dll = msrle32_session(tmp_path / "r.db", wine_drivers)
    user["DRVTAPE_MINGW_GCC"] = str(tmp_path / "no-such-gcc")
    done = run([str(installed / "drvtape")], user, tmp_path, "--db", "r.db", "replay", session, "--target",
               f"dll:{dll}", "--repeat", "2", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["reproduced_runs"] == 2, done.stderr
    assert "building" not in done.stderr


def test_without_shipped_binaries_drvhost_is_built_once_into_the_users_cache(sources_only, user, tmp_path,
                                                                            wine_drivers):
    session, dll = msrle32_session(tmp_path / "r.db", wine_drivers)
    first = run(sources_only, user, tmp_path, "--db", "r.db", "replay", session, "--target", f"dll:{dll}", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["reproduced"]
    assert "drvtape: building drvhost (once)" in first.stderr
    again = run(sources_only, user, tmp_path, "--db", "r.db", "replay", session, "--target", f"dll:{dll}",
                "--repeat", "2", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["reproduced_runs"] == 2, again.stderr
    assert "building" not in again.stderr
    assert any((Path(user["XDG_CACHE_HOME"]) / "drvtape" / "build").glob("drvhost-*.exe"))


def test_tap_install_records_and_uninstalls_from_the_wheel(sources_only, user, tmp_path, driver):
    real = driver("thread_affinity")
    alias = f"drvtap.w{os.getpid()}"
    tape = tmp_path / "wheel.drvtape"
    done = run(sources_only, user, tmp_path, "tap", "install", "--alias", alias, "--real", real, "--tape", str(tape),
               "--json")
    assert done.returncode == 0, done.stderr
    assert "drvtape: building drvtap (once)" in done.stderr
    try:
        argv, env = wine.command(compile_pe([CLIENT_SOURCE], flags=["-municode"]))
        env = {k: v for k, v in (env or os.environ).items() if not k.startswith("DRVTAP_")}
        client = subprocess.run([*argv, alias, "5", "6"], env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
        assert client.returncode == 0, (client.stdout, client.stderr)
        ingested = run(sources_only, user, tmp_path, "--db", "t.db", "ingest", str(tape), "--json")
        assert ingested.returncode == 0, ingested.stderr
        (session,) = json.loads(ingested.stdout)["tapes"][0]["sessions"]
        with Store.open(tmp_path / "t.db") as store:
            events = store.events(store.resolve(session["session"]).pk)
        assert DRV_OPEN in {ev.msg for ev in events if ev.kind == "call"}
        replayed = run(sources_only, user, tmp_path, "--db", "t.db", "replay", session["session"], "--target",
                       f"dll:{real}", "--json")
        assert replayed.returncode == 0 and json.loads(replayed.stdout)["reproduced"], replayed.stderr
    finally:
        removed = run(sources_only, user, tmp_path, "tap", "uninstall", "--alias", alias)
    assert removed.returncode == 0, removed.stderr
