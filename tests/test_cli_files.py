"""Files the command line writes: whole or not at all, under a name nobody can predict, never
through a planted symlink; a full stdout is one line and exit 2."""

import os
import subprocess
import sys

import pytest

WRITERS = [["export", "--all", "-o"], ["timeline", "last", "-o"], ["schema", "-o"]]


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: a[0])
def test_planted_symlinks_are_never_followed(drvtape, tape_db, tmp_path, args):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    target = tmp_path / "out.file"
    # the names drvtape used to write through: a fixed OUTPUT.partial and .NAME.PID.tmp
    for name in ("out.file.partial", f".out.file.{os.getpid()}.tmp", f".out.file.{os.getpid() + 1}.tmp"):
        (tmp_path / name).symlink_to(victim)
    target.symlink_to(victim)  # the target itself: replaced, not written through
    result = drvtape("--db", tape_db, *args, target)
    assert result.code == 0, result.stderr
    assert victim.read_text() == "keep me\n"
    assert not target.is_symlink() and target.stat().st_size > 0
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([".out.file." + str(os.getpid()) + ".tmp", ".out.file." + str(os.getpid() + 1) + ".tmp",
                           "out.file", "out.file.partial", "tapes.db", "victim"])


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: a[0])
def test_a_file_that_cannot_be_written_is_one_line_and_leaves_nothing(drvtape, tape_db, tmp_path, args):
    folder = tmp_path / "no-such-folder"
    result = drvtape("--db", tape_db, *args, folder / "out")
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"drvtape: error: cannot write {folder / 'out'}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tapes.db"]


@pytest.mark.parametrize("name", ["", ".", "..", "sub/.."])
def test_an_output_without_a_file_name_is_refused(drvtape, tape_db, tmp_path, name):
    result = drvtape("--db", tape_db, "timeline", "last", "-o", name)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "give a file name (or - for stdout)" in result.stderr


def test_the_written_file_gets_the_umasks_mode_not_mkstemps(drvtape, tape_db, tmp_path):
    target = tmp_path / "out.jsonl"
    assert drvtape("--db", tape_db, "export", "--all", "-o", target).code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("args", [
    ["sessions"], ["sessions", "--json"], ["show", "last"], ["events", "last", "--format", "csv"],
    ["export", "--all"], ["timeline", "last", "-o", "-"], ["schema"], ["verify", "--all"],
], ids=" ".join)
def test_a_full_stdout_is_one_line_and_exit_2(tape_db, args):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "drvtape", "--db", str(tape_db), *args], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "drvtape: error: cannot write output: No space left on device\n"
