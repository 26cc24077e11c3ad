"""Import, export, verify, push and ingest of a multi-million-event input stay under 250 MB
of peak RSS (issue 16 item 1), each measured in its own process (bench/peak_rss.py); and a
bad line or a non-tape at the end of such an input leaves the database as it was.

The inputs come from bench/stream_bench.py, which runs the same commands at 10M events.
"""

import hashlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"
sys.path.insert(0, str(BENCH))
import stream_bench  # noqa: E402  (bench/ is not a package)

EVENTS = 2_000_000
BOUND_MB = stream_bench.PEAK_RSS_BOUND_MB

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="peak RSS from getrusage in kilobytes: Linux")


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("stream")
    jsonl, db = tmp / "big.jsonl", tmp / "big.db"
    events = stream_bench.write_jsonl(jsonl, EVENTS)
    imported = stream_bench.drvtape_child(tmp, "--db", str(db), "import", "--quiet", "--json", str(jsonl))
    return {"tmp": tmp, "jsonl": jsonl, "db": db, "events": events, "import": imported}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_stays_bounded(big):
    assert big["import"]["peak_rss_mb"] < BOUND_MB, big["import"]


def test_export_and_compressed_export_stay_bounded_and_import_again(big):
    tmp = big["tmp"]
    plain = stream_bench.drvtape_child(tmp, "--db", str(big["db"]), "export", "--all", "-o", str(tmp / "out.jsonl"))
    assert plain["peak_rss_mb"] < BOUND_MB, plain
    with open(tmp / "out.jsonl", "rb") as exported, open(big["jsonl"], "rb") as imported:
        assert sum(1 for _ in exported) == sum(1 for _ in imported)  # every line back
    packed = stream_bench.drvtape_child(tmp, "--db", str(big["db"]), "export", "--all", "--compress",
                                        "-o", str(tmp / "out.jsonl.zst"))
    assert packed["peak_rss_mb"] < BOUND_MB, packed
    again = stream_bench.drvtape_child(tmp, "--db", str(tmp / "again.db"), "import", "--quiet",
                                       str(tmp / "out.jsonl.zst"))
    assert again["peak_rss_mb"] < BOUND_MB, again


def test_verify_and_push_stay_bounded(big):
    tmp = big["tmp"]
    verified = stream_bench.drvtape_child(tmp, "--db", str(big["db"]), "verify", "--all", "--json")
    assert verified["peak_rss_mb"] < BOUND_MB, verified
    pushed = stream_bench.drvtape_child(tmp, "--db", str(big["db"]), "push", "--all", "--quiet", "--json",
                                        "--to", str(tmp / "central.db"))
    assert pushed["peak_rss_mb"] < BOUND_MB, pushed


def test_ingest_stays_bounded(big):
    tmp = big["tmp"]
    tape = tmp / "big.drvtape"
    stream_bench.write_tape(tape, EVENTS)
    ingested = stream_bench.drvtape_child(tmp, "--db", str(tmp / "tape.db"), "ingest", "--quiet", "--json", str(tape))
    assert ingested["peak_rss_mb"] < BOUND_MB, ingested


def test_a_bad_last_line_of_a_big_file_leaves_the_database_as_it_was(big):
    tmp = big["tmp"]
    bad = tmp / "bad.jsonl"
    stream_bench.write_jsonl(bad, EVENTS // 2)
    with open(bad, "a", encoding="utf-8") as out:
        out.write('{"seq":999999,"kind":"mark"}\n')  # after the last session's end
    small, db = tmp / "small.jsonl", tmp / "existing.db"
    stream_bench.write_jsonl(small, 10_000)
    stream_bench.drvtape_child(tmp, "--db", str(db), "import", "--quiet", str(small))
    before = _sha(db)
    with pytest.raises(RuntimeError, match="exit 2"):
        stream_bench.drvtape_child(tmp, "--db", str(db), "import", "--quiet", str(bad))
    assert _sha(db) == before
    fresh = tmp / "fresh.db"
    with pytest.raises(RuntimeError, match="exit 2"):
        stream_bench.drvtape_child(tmp, "--db", str(fresh), "import", "--quiet", str(bad))
    assert not list(tmp.glob("fresh.db*"))
