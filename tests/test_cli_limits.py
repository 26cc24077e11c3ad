"""The findings of issue 17 on arguments, --db/--to and workloads: each one line and exit 2,
a value too large said to be too large, and every database as it was."""

import hashlib

import pytest

from drvtape.store import Store

NON_UTF8 = b"caf\xe9".decode("utf-8", "surrogateescape")


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(result, phrase: str) -> None:
    assert result.code == 2, result
    assert result.stderr.startswith("drvtape: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert phrase in result.stderr, result.stderr


@pytest.mark.parametrize(("args", "phrase"), [
    (["--db", "://", "sessions"], "'://' is not a database URL"),
    (["sessions", "--db", "://"], "'://' is not a database URL"),
    (["--db", "a" * 300, "sessions"], "is too long: the file system allows 255 bytes a name"),
    (["--db", "/".join(["d" * 200] * 30), "sessions"], "is too long: the system allows 4095 bytes"),
    (["sessions", "--driver", NON_UTF8], r"argument 'caf\xe9' is not UTF-8 text"),
    (["sessions", "--driver", "a\0b"], r"argument 'a\x00b' contains a NUL character"),
    (["timeline", "last", "-o", ""], "cannot write '': give a file name"),
    (["explore", "last", "--budget", "9" * 5000], "is too large: at most 1000000000"),
    (["explore", "last", "--budget", "9" * 5000 + "s"], "is too large: at most 10000000s"),
    (["push", "--all", "--to", "://"], "'://' is not a database URL"),
    (["push", "--all", "--to", "b" * 300], "is too long"),
    (["pull", "--all", "--from", "://"], "'://' is not a database URL"),
    (["push", "--all", "--to", "x.db", "--chunk", str(2**64)], "--chunk '18446744073709551616' is too large"),
    (["push", "--all", "--to", "x.db", "--chunk", "0"], "--chunk '0' must be a positive integer"),
], ids=lambda v: v[0] if isinstance(v, list) else None)
def test_hostile_arguments_are_one_line(drvtape, tape_db, tmp_path, monkeypatch, args, phrase):
    monkeypatch.chdir(tmp_path)
    before = _digest(tape_db)
    _refused(drvtape("--db", tape_db, *args), phrase)
    assert _digest(tape_db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tapes.db"]  # no x.db, no output file


@pytest.mark.parametrize("value", ["a" * 30, "%_" * 15, "'" * 30, "x" * 40_000])
def test_long_and_pattern_driver_filters_select_nothing(drvtape, tape_db, value):
    result = drvtape("--db", tape_db, "sessions", "--driver", value, "--json")
    assert result.code == 0 and result.stdout == "[]\n", result.stderr


def test_a_long_string_lparam_is_refused_before_the_session_begins(drvtape, tape_db, tmp_path):
    workload = tmp_path / "long.toml"
    workload.write_text(f'[[steps]]\naction = "open"\ninstance = "a"\nlparam1 = "{"x" * 32_769}"\n')
    before = _digest(tape_db)
    _refused(drvtape("--db", tape_db, "record", "-w", workload, "-t", "sim:reference"),
             "lparam1: a string LPARAM of 32769 characters is too long: at most 32768")
    assert _digest(tape_db) == before


def test_a_string_lparam_of_32768_characters_is_recorded(drvtape, tape_db, tmp_path):
    workload = tmp_path / "longest.toml"
    workload.write_text(f'[[steps]]\naction = "open"\ninstance = "a"\nlparam1 = "{"x" * 32_768}"\n')
    result = drvtape("--db", tape_db, "record", "-w", workload, "-t", "sim:reference")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("value", ["a" * 30, "%_\\" * 10, "x" * 40_000, "'; DROP TABLE events; --"])
def test_driver_filters_on_both_engines(drvtape, tapes, db, value):
    with Store.open(db, create=True) as store:
        tapes.shutdown().store_in(store)
    result = drvtape("--db", db, "sessions", "--driver", value, "--json")
    assert result.code == 0 and result.stdout == "[]\n", result.stderr
    assert drvtape("--db", db, "sessions", "--driver", "disable", "--json").stdout.count('"id"') == 1
