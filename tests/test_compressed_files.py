"""`export --compress` writes zstd; import and ingest read zstd and gzip files (and stdin)
by their magic; damage inside the compressed stream is one line and exit 2, nothing written."""

import gzip
import json
from pathlib import Path

import zstandard

from drvtape.store import Store
from test_tape_ingest import Writer, lifecycle


def _session_file(tmp_path, drvtape):
    tape = Path(lifecycle(Writer()).save(tmp_path / "p.drvtape"))
    db = tmp_path / "src.db"
    assert drvtape("--db", db, "ingest", tape).code == 0
    return db, tape


def test_export_compress_is_zstd_and_imports_as_it_is(tmp_path, drvtape):
    db, _ = _session_file(tmp_path, drvtape)
    plain, packed = tmp_path / "a.jsonl", tmp_path / "a.jsonl.zst"
    assert drvtape("--db", db, "export", "--all", "-o", plain).code == 0
    assert drvtape("--db", db, "export", "--all", "--compress", "-o", packed).code == 0
    assert zstandard.ZstdDecompressor().decompress(packed.read_bytes(), max_output_size=1 << 24) == plain.read_bytes()
    run = drvtape("--db", tmp_path / "b.db", "import", packed, "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["events"] == 13
    with Store.open(db) as a, Store.open(tmp_path / "b.db") as b:
        assert a.events(a.resolve("last").pk) == b.events(b.resolve("last").pk)


def test_gzip_jsonl_and_compressed_tapes_are_read_too(tmp_path, drvtape):
    db, tape = _session_file(tmp_path, drvtape)
    plain = tmp_path / "a.jsonl"
    assert drvtape("--db", db, "export", "--all", "-o", plain).code == 0
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert drvtape("--db", tmp_path / "g.db", "import", gz).code == 0
    assert drvtape("--db", tmp_path / "s.db", "import", "-", input=gzip.compress(plain.read_bytes())).code == 0
    zst = tmp_path / "p.drvtape.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(tape.read_bytes()))
    run = drvtape("--db", tmp_path / "t.db", "ingest", zst, "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["tapes"][0]["sessions"][0]["events"] == 13


def test_damaged_compressed_input_is_refused_with_nothing_written(tmp_path, drvtape):
    db, tape = _session_file(tmp_path, drvtape)
    plain = tmp_path / "a.jsonl"
    assert drvtape("--db", db, "export", "--all", "-o", plain).code == 0
    packed = bytearray(gzip.compress(plain.read_bytes() * 3))
    packed[len(packed) // 2:] = b"\xff" * (len(packed) - len(packed) // 2)
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(bytes(packed))
    for command, path in (("import", bad), ("ingest", bad)):
        run = drvtape("--db", tmp_path / "fresh.db", command, path)
        assert run.code == 2 and run.stdout == "" and run.stderr.count("\n") == 1, run
        assert "Traceback" not in run.stderr
        assert not list(tmp_path.glob("fresh.db*"))
