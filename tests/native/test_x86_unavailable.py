"""Where the package registry could not provide 32-bit Wine, the x86 tests skip with the
resolver's error line (.ci/run passes it in DRVTAPE_WINE32_UNAVAILABLE); every other missing
tool, and a missing 32-bit Wine with no such line, still fails them in CI."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvtape.dllhost.arch import X86
from drvtape.dllhost.build import compile_pe

REPO = Path(__file__).resolve().parents[2]
RESOLVER_ERROR = "E: Unable to locate package wine32:i386"
X86_TEST = f"{Path(__file__).parent / 'test_tap_bugs_x86.py'}::test_the_32_bit_builds_are_x86_and_their_tape_says_4_byte_pointers"


def run_x86_test(tmp_path: Path, *tests: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "DRVTAPE_WINE32_UNAVAILABLE"}
    full.update(CI="true", **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *(tests or [X86_TEST]), "--basetemp", str(tmp_path / "run")], env=full, cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(os.name == "nt", reason="Wine is not used on Windows")
def test_a_resolver_error_for_wine32_is_the_skip_reason(tmp_path):
    run = run_x86_test(tmp_path, DRVTAPE_WINE_X86=str(tmp_path / "missing"), DRVTAPE_WINE32_UNAVAILABLE=RESOLVER_ERROR)
    assert run.returncode == 0 and "1 skipped" in run.stdout, run.stdout
    assert f"32-bit Wine could not be installed: {RESOLVER_ERROR}" in run.stdout


@pytest.mark.skipif(os.name == "nt", reason="Wine is not used on Windows")
def test_a_missing_wine32_without_a_resolver_error_fails_in_ci(tmp_path):
    run = run_x86_test(tmp_path, DRVTAPE_WINE_X86=str(tmp_path / "missing"))
    assert run.returncode == 1 and "required in CI" in run.stdout and "wine32:i386" in run.stdout, run.stdout


@pytest.mark.skipif(os.name == "nt", reason="Wine is not used on Windows")
def test_a_missing_x86_compiler_fails_in_ci_even_with_a_resolver_error_and_no_wine32(tmp_path):
    run = run_x86_test(tmp_path, DRVTAPE_MINGW_GCC_X86=str(tmp_path / "missing"),
                       DRVTAPE_WINE_X86=str(tmp_path / "missing"), DRVTAPE_WINE32_UNAVAILABLE=RESOLVER_ERROR)
    assert run.returncode == 1 and "required in CI" in run.stdout and "gcc-mingw-w64-i686" in run.stdout, run.stdout


@pytest.mark.skipif(os.name == "nt", reason="Wine is not used on Windows")
def test_the_32_bit_memory_replay_and_tap_run_tests_skip_with_the_resolver_error_too(tmp_path):
    here = Path(__file__).parent
    tests = [f"{here / 'test_x86_payloads.py'}", f"{here / 'test_x86_tap_run.py'}::test_a_32_bit_program_with_a_64_bit_"
             "driver_is_refused_in_one_line_before_anything_is_made"]
    run = run_x86_test(tmp_path, *tests, DRVTAPE_WINE_X86=str(tmp_path / "missing"),
                       DRVTAPE_WINE32_UNAVAILABLE=RESOLVER_ERROR)
    assert run.returncode == 0 and "2 skipped" in run.stdout, run.stdout
    assert run.stdout.count(f"32-bit Wine could not be installed: {RESOLVER_ERROR}") == 2, run.stdout


@pytest.mark.skipif(os.name == "nt", reason="Wine is not used on Windows")
def test_replaying_against_an_x86_dll_checks_the_x86_tools_first_in_one_line(tmp_path, cross_compilers):
    """Neither Wine: an x86 DLL's replay names the 32-bit Wine's package (not wine64's), in one
    line, exit 2, before any drvhost is built or started."""
    dll = compile_pe([Path(__file__).parent / "drivers" / "thread_affinity.c"], dll=True, arch=X86)
    env = {k: v for k, v in os.environ.items() if k != "DRVTAPE_WINE32_UNAVAILABLE"}
    env.update(DRVTAPE_WINE=str(tmp_path / "missing"), DRVTAPE_WINE_X86=str(tmp_path / "missing"))
    db = str(tmp_path / "r.db")
    drvtape = [sys.executable, "-m", "drvtape", "--db", db]
    record = subprocess.run([*drvtape, "record", "--target", "sim:thread-affinity", "-w",
                             str(REPO / "drvtape" / "workloads" / "thread-affinity.toml")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert record.returncode == 0, record.stderr
    run = subprocess.run([*drvtape, "replay", "last", "--target", f"dll:{dll}"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.count("\n") == 1 and "wine32:i386" in run.stderr and "wine64" not in run.stderr, run.stderr
    assert "building drvhost" not in run.stderr
