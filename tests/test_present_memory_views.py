"""The timeline (HTML and Trace Event Format) and show name a codec's messages and the struct
fields of the memory they captured, as events --json does: a recorded sim:vfw-decoder session."""

import json
import re

from drvtape.present.memory import CapturedBytes, LoadedOnUse, memory_text
from drvtape.recorder import Recorder
from drvtape.runtime.sim.codec import VfwDecoder
from drvtape.schema.memory.captured import Phase, block

from codec_app import decode, frame


def codec_db(tmp_path) -> str:
    db = str(tmp_path / "c.db")
    with Recorder(db, driver="vidc.SRLE", target="sim:vfw-decoder") as rec:
        decode(rec.wrap(VfwDecoder()), [frame(1), frame(2)])
    return db


def test_the_chrome_trace_has_the_memory_of_each_call_with_struct_fields(tmp_path, drvtape):
    done = drvtape("--db", codec_db(tmp_path), "timeline", "last", "-o", "-", "--format", "chrome-trace")
    assert done.code == 0, done.stderr
    calls = [e for e in json.loads(done.stdout)["traceEvents"] if e.get("cat") == "call"]
    decompress = [c for c in calls if c["name"] == "ICM_DECOMPRESS"]
    assert decompress
    blocks_in = {b["path"]: b for b in decompress[0]["args"]["memory_in"]}
    assert blocks_in["lparam1.lpbiInput"]["fields"]["biSize"] == 40
    assert "fields" not in blocks_in["lparam1.lpInput"]  # frame bytes: no layout
    assert {b["path"] for b in decompress[0]["args"]["memory_out"]} >= {"lparam1.lpOutput"}


def test_the_html_timeline_shows_the_struct_fields_in_its_events(tmp_path, drvtape):
    done = drvtape("--db", codec_db(tmp_path), "timeline", "last", "-o", "-")
    assert done.code == 0, done.stderr
    page = re.search(r'<script id="data" type="application/json">(.*?)</script>', done.stdout, re.DOTALL)
    data = json.loads(page.group(1).replace("<\\/", "</"))
    calls = [e for e in data["events"] if e[1] == "call" and e[5] == "ICM_DECOMPRESS"]
    assert calls and re.search(r"^lparam1 ICDECOMPRESS 48 B \{dwFlags=0, lpbiInput=0x[0-9a-f]+, ", calls[0][8])
    assert re.search(r"^lparam1.lpbiInput BITMAPINFOHEADER \d+ B \{biSize=40, biWidth=", calls[0][8], re.MULTILINE)
    returns = [e for e in data["events"] if e[1] == "return" and e[7] == calls[0][0]]
    assert "lparam1.lpOutput" in returns[0][8]


def test_show_names_codec_messages(tmp_path, drvtape):
    shown = json.loads(drvtape("--db", codec_db(tmp_path), "show", "last", "--json").stdout)
    assert shown["calls_by_msg"]["ICM_DECOMPRESS"] == 2 and "ICM_DECOMPRESS_BEGIN" in shown["calls_by_msg"]


def test_memory_text_flags_truncated_and_unreadable_blocks():
    data = bytes(range(16))
    cut = block("lparam2", Phase.CALL, 0x1000, 64, data, truncated=True)
    lost = block("lparam1", Phase.CALL, 0x2000, 40, b"", unreadable=True)
    text = memory_text([cut, lost], None, CapturedBytes("x64", {cut.sha256: data}))
    assert text.splitlines() == ["lparam2 64 B (truncated)", "lparam1 40 B (unreadable)"]


def test_blobs_loaded_on_use_are_fetched_once_each():
    asked = []
    blobs = LoadedOnUse(lambda keys: asked.extend(keys) or {k: b"x" for k in keys if k != "gone"})
    assert blobs.get("a") == b"x" and blobs.get("a") == b"x" and blobs.get("gone") is None
    assert asked == ["a", "gone"] and dict(blobs) == {"a": b"x"}
