"""`drvtape show SESSION --seq N` / `--msg NAME`: a call and its return with the memory captured
at call and at return, struct by struct and field by field (the decoding events --json and
the timeline use), large buffers as size, sha256 and first bytes; recorded sim:vfw-decoder
sim:vfw-kept-frame and sim:exit-spin sessions (no Wine)."""

import hashlib
import json
from pathlib import Path

import pytest

import drvtape as drvtape_package
from drvtape.recorder import Recorder
from drvtape.runtime.faults import DriverFault
from drvtape.runtime.sim.codec import KeptFrameDecoder, VfwDecoder

from codec_app import HEIGHT, WIDTH, decode, decoded, frame

FRAMES = [frame(1), frame(9, 3)]


def record(db: str, driver, **options) -> None:
    with Recorder(db, driver="vidc.SRLE", target=f"sim:{driver.name}", **options) as rec:
        decode(rec.wrap(driver), FRAMES)


@pytest.fixture
def codec_db(tmp_path) -> str:
    db = str(tmp_path / "c.db")
    record(db, VfwDecoder())
    return db


def decompress_seqs(drvtape, db: str) -> list[tuple[int, int]]:
    """(call seq, return seq) of each ICM_DECOMPRESS, as `events` lists them."""
    found = json.loads(drvtape("--db", db, "events", "last", "--msg", "ICM_DECOMPRESS", "--json").stdout)
    return [(e["call_seq"], e["seq"]) for e in found if e["kind"] == "return"]


def by_path(blocks: list[dict]) -> dict[str, dict]:
    return {b["path"]: b for b in blocks}


def test_a_call_shows_its_message_params_return_and_memory_by_field_as_json(drvtape, codec_db):
    call_seq, return_seq = decompress_seqs(drvtape, codec_db)[1]
    done = drvtape("--db", codec_db, "show", "last", "--seq", str(call_seq), "--json")
    assert done.code == 0, done.stderr
    shown = json.loads(done.stdout)
    call, ret = shown["call"], shown["return"]
    assert (call["seq"], call["msg_name"], call["class"]) == (call_seq, "ICM_DECOMPRESS", "vfw")
    assert call["lparam1_is"] == "pointer to ICDECOMPRESS (in)" and call["lparam2"] == 48
    blocks = by_path(call["memory"])
    assert blocks["lparam1"]["fields"]["lpbiInput"] == blocks["lparam1.lpbiInput"]["address"]
    header = blocks["lparam1.lpbiInput"]
    assert (header["fields"]["biWidth"], header["fields"]["biHeight"]) == (WIDTH, HEIGHT)
    assert header["bytes"] == {"offset": 40, "length": 1024, "first": " ".join(["00"] * 16)}  # the colour table
    source = blocks["lparam1.lpInput"]
    assert "fields" not in source and source["bytes"] == {"offset": 0, "length": len(FRAMES[1]),
                                                          "first": FRAMES[1][:16].hex(" ")}
    assert (ret["seq"], ret["kind"], ret["result"]) == (return_seq, "return", 0)
    (picture,) = ret["memory"]
    assert picture["path"] == "lparam1.lpOutput" and picture["phase"] == "return"
    assert picture["sha256"] == hashlib.sha256(decoded(9, 3)).hexdigest()
    assert picture["bytes"] == {"offset": 0, "length": WIDTH * HEIGHT, "first": decoded(9, 3)[:16].hex(" ")}


def test_a_return_seq_shows_the_call_it_ends(drvtape, codec_db):
    call_seq, return_seq = decompress_seqs(drvtape, codec_db)[0]
    by_call = json.loads(drvtape("--db", codec_db, "show", "last", "--seq", str(call_seq), "--json").stdout)
    by_return = json.loads(drvtape("--db", codec_db, "show", "last", "--seq", str(return_seq), "--json").stdout)
    assert by_call == by_return and by_call["return"]["call_seq"] == call_seq


def test_the_table_names_each_struct_field_with_its_offset(drvtape, codec_db):
    call_seq, return_seq = decompress_seqs(drvtape, codec_db)[0]
    done = drvtape("--db", codec_db, "show", "last", "--seq", str(call_seq))
    assert done.code == 0, done.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in done.stdout.splitlines() if "│" in line]
    assert "ICM_DECOMPRESS (0x400D, class vfw, DriverProc)" in done.stdout
    assert f"seq {return_seq}: 0x0 (ICERR_OK" in done.stdout
    assert ["", "biWidth", "4", str(WIDTH)] in rows and ["", "biHeight", "8", str(HEIGHT)] in rows
    assert ["", "biCompression", "16", "1162629715 (0x454C5253) 'SRLE'"] in rows
    assert any(r[:3] == ["", "lpbiInput", "8"] and r[3].endswith("-> lparam1.lpbiInput") for r in rows)
    assert ["", "(bytes)", "0", f"{len(FRAMES[0])} B: {FRAMES[0].hex(' ')}"] in rows
    assert "memory at call (what the driver reads)" in done.stdout
    assert "memory at return (what the driver wrote)" in done.stdout
    assert ["", "(bytes)", "0", f"{WIDTH * HEIGHT} B: {decoded(1)[:16].hex(' ')} ..."] in rows


def test_msg_shows_every_call_of_the_message_with_its_return(drvtape, codec_db):
    shown = json.loads(drvtape("--db", codec_db, "show", "last", "--msg", "ICM_DECOMPRESS", "--json").stdout)
    assert [(c["call"]["seq"], c["return"]["seq"]) for c in shown["calls"]] == decompress_seqs(drvtape, codec_db)
    pictures = [by_path(c["return"]["memory"])["lparam1.lpOutput"]["sha256"] for c in shown["calls"]]
    assert pictures == [hashlib.sha256(decoded(1)).hexdigest(), hashlib.sha256(decoded(9, 3)).hexdigest()]
    text = drvtape("--db", codec_db, "show", "last", "--msg", "icm_decompress").stdout
    assert text.count("ICM_DECOMPRESS (0x400D, class vfw, DriverProc)") == 2


def test_a_truncated_block_is_marked_with_what_was_captured(drvtape, tmp_path):
    db = str(tmp_path / "cut.db")
    record(db, VfwDecoder(), memory_cap=64)
    call_seq, _ = decompress_seqs(drvtape, db)[0]
    shown = json.loads(drvtape("--db", db, "show", "last", "--seq", str(call_seq), "--json").stdout)
    picture = by_path(shown["return"]["memory"])["lparam1.lpOutput"]
    assert picture["truncated"] is True and (picture["size"], picture["captured"]) == (WIDTH * HEIGHT, 64)
    assert picture["bytes"]["length"] == 64
    text = drvtape("--db", db, "show", "last", "--seq", str(call_seq)).stdout
    assert f"{WIDTH * HEIGHT} B, truncated: 64 B captured, sha256" in text


def test_a_call_that_faulted_shows_its_fault(drvtape, tmp_path):
    db = str(tmp_path / "k.db")
    with pytest.raises(DriverFault):
        record(db, KeptFrameDecoder())
    shown = json.loads(drvtape("--db", db, "show", "last", "--msg", "DRV_CLOSE", "--json").stdout)
    (close,) = shown["calls"]
    assert close["return"]["kind"] == "fault" and close["return"]["code"] == 0xC0000005
    text = drvtape("--db", db, "show", "last", "--msg", "DRV_CLOSE").stdout
    assert "fault 0xC0000005" in text and "no memory captured at return" in text


@pytest.mark.parametrize("args, message", [
    (["--seq", "999"], "seq 999 of session {id} is no event, not a call"),
    (["--seq", "0"], "'0' must be a positive integer"),
    (["--seq", "x"], "'x' is not an integer"),
    (["--seq", "{end}"], "seq {end} of session {id} is its end, not a call"),
    (["--msg", "ACMDM_STREAM_CONVERT"], "session {id} has no call of ACMDM_STREAM_CONVERT (0x604F)"),
    (["--msg", "ICM_NOPE"], "unknown message 'ICM_NOPE'"),
    (["--seq", "3", "--msg", "DRV_OPEN"], "give one of --seq and --msg"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_a_bad_seq_or_message_is_one_line_and_exit_2(drvtape, codec_db, args, message):
    session = json.loads(drvtape("--db", codec_db, "show", "last", "--json").stdout)["session"]
    fill = {"id": session["id"], "end": session["events"]}
    done = drvtape("--db", codec_db, "show", "last", *(a.format(**fill) for a in args))
    assert done.code == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and message.format(**fill) in done.stderr, done.stderr


def test_a_call_that_never_returned_shows_the_end_that_names_it(drvtape, tmp_path):
    db = str(tmp_path / "hang.db")
    workload = Path(drvtape_package.__file__).parent / "workloads" / "exit-spin.toml"
    assert drvtape("--db", db, "record", "--target", "sim:exit-spin", "--workload", str(workload)).code == 0
    shown = json.loads(drvtape("--db", db, "show", "last", "--msg", "DRV_EXITSESSION", "--json").stdout)
    (exit_call,) = shown["calls"]
    assert exit_call["call"]["lparam1_is"] == "unused" and exit_call["return"]["kind"] == "end"
    assert exit_call["return"]["reason"] == "hang" and exit_call["return"]["call_seq"] == exit_call["call"]["seq"]
    text = drvtape("--db", db, "show", "last", "--seq", str(exit_call["call"]["seq"])).stdout
    assert f"never: the session ended at seq {exit_call['return']['seq']} (hang" in text
