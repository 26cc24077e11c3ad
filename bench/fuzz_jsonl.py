"""Coverage-guided fuzzing of the JSONL import parser with atheris (run by hand, not in CI).

    pip install atheris
    python bench/fuzz_jsonl.py -max_len=4096 -runs=200000 [CORPUS_DIR]

Property: bytes -> UTF-8 lines -> parse_jsonl either returns sessions that export and
re-import to the same sessions, or raises DrvtapeError. Anything else is a crash.
"""

import sys

import atheris

with atheris.instrument_imports():
    from drvtape.errors import DrvtapeError
    from drvtape.formats.jsonl import dump_session
    from drvtape.formats.jsonl_reader import parse_jsonl


def one(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the import reader refuses these before parse_jsonl (tests/test_fuzz_interchange.py)
    try:
        sessions = parse_jsonl(text.split("\n"), "fuzz.jsonl")
    except DrvtapeError:
        return
    again = [line for header, events in sessions for line in dump_session(header, events)]
    assert parse_jsonl(again, "again.jsonl") == sessions


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
