"""One prefix, one wineserver, whatever TMPDIR drvtape itself runs with.

Wine 8.0 finds a prefix's server under TMPDIR (drvtape/dllhost/wine.py, SERVER_TMPDIR): two
processes on one prefix with different TMPDIRs ran two servers at once, and what one wrote in
the registry the other did not see. The tests give drvtape's CLI children TMPDIR=tmp_path (for
the run's folders), so every Wine process drvtape starts must get the one TMPDIR."""
import os
import subprocess

from drvtape.dllhost import wine

KEY = rf"HKCU\Software\drvtape-test-one-server-{os.getpid()}"  # one key: deleting it leaves nothing


def reg(prefix, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([wine.wine_binary(), "reg", *args], env=wine.wine_env(prefix), capture_output=True,
                          text=True, timeout=120)


def test_a_wine_process_gets_the_servers_tmpdir_whatever_drvtapes_is(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert wine.wine_env(tmp_path / "prefix")["TMPDIR"] == wine.SERVER_TMPDIR


def test_a_value_written_under_another_tmpdir_is_read_by_the_running_server(host, tmp_path, monkeypatch):
    prefix = wine.ensure_prefix()  # its server is up (and lingers) for the reader below
    try:
        with monkeypatch.context() as patch:
            patch.setenv("TMPDIR", str(tmp_path))  # as a CLI child of the tests has it
            written = reg(prefix, "add", KEY, "/v", "written", "/d", "by-the-writer", "/f")
        assert written.returncode == 0, written.stderr
        assert not list(tmp_path.glob("wine-*/server-*")), "a second wineserver was started under the writer's TMPDIR"
        read = reg(prefix, "query", KEY, "/v", "written")
        assert read.returncode == 0 and "by-the-writer" in read.stdout, (read.stdout, read.stderr)
    finally:
        reg(prefix, "delete", KEY, "/f")
