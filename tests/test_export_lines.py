"""`drvtape export` writes plain call and return rows directly (drvtape.formats.plain_rows.line_of_row),
the other events through their models: the file is byte for byte what the models' JSON of every
stored event gives (dump_session), for sessions with every kind of event, memory included."""

from drvtape.cli.selection import chosen_sessions
from drvtape.formats.jsonl import dump_session
from drvtape.formats.plain_rows import line_of_row
from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.events import EndReason
from drvtape.schema.payloads import CallPayloads, WideString
from drvtape.schema.rows import call_row, event_to_row, return_row
from drvtape.store import Store

from test_memory_store import codec_tape

EXTREMES = {"thread": 2**64 - 1, "driver_id": 2**64 - 1, "hdrvr": 2**63}


def every_kind(tapes):
    """A session of calls and returns (plain, with a payload, at a device entry point, with 64-bit
    extremes), a mark, a fault and a hang end."""
    tape = tapes.Tape(tapes.header("cccc0009-0000-4000-8000-000000000009"))
    tape.send(1, 1)
    tape.send(3, 0, lparam1=-(2**63), lparam2=2**63 - 1, **EXTREMES)
    tape.send(2049, -1, payload=CallPayloads(lparam1=WideString(text="drv\u00e9")))
    tape.send(5, 0, entry_point=EntryPoint.WOD)
    tape.mark("logoff")
    tape.fault(tape.call(6, thread=tapes.T1))
    tape.end(EndReason.HANG, call_seq=tape.call(7), detail="no answer in 1 s")
    return tape


def test_export_is_byte_identical_to_the_models_json(tmp_path, tapes, drvtape):
    db = tmp_path / "all.db"
    codec, blobs = codec_tape(frames=3, arch="x86")
    with Store.open(db, create=True) as store:
        store.store_session(codec.header, [event_to_row(ev) for ev in codec.events], blobs)
        for tape in (every_kind(tapes), tapes.clean(), tapes.hang(), tapes.shutdown()):
            tape.store_in(store)
    out = tmp_path / "out.jsonl"
    assert drvtape("--db", db, "export", "--all", "-o", out).code == 0
    with Store.open(db) as store:
        written: set[str] = set()
        expected = "".join(line + "\n" for stored in chosen_sessions(store, None, True)
                           for line in dump_session(stored.header, store.events(stored.pk), store.blobs, written))
    assert out.read_bytes() == expected.encode("utf-8")
    assert '"kind":"call","msg":3,' in expected and '"entry_point":"wodMessage"' in expected


def test_a_row_the_models_refuse_is_not_written_as_a_plain_line():
    plain = call_row(1, 0, 7, 3, 1, 2, -1, 0, 0)
    assert line_of_row(plain) is not None
    refused = [plain._replace(seq=0), plain._replace(ts_ns=-1), plain._replace(msg=2**32), plain._replace(depth=True),
               plain._replace(thread=2**64), plain._replace(lparam1=2**63), plain._replace(lparam2=1.0),
               return_row(2, 0, 7, 3, 1, 2, 0, 0, 5), return_row(2, 0, 7, 3, 1, 2, 2**63, 1, 5),
               return_row(2, 0, 7, 3, 1, 2, 0, 1, -5), plain._replace(payload="{}"), plain._replace(entry_point=1)]
    assert [line_of_row(row) for row in refused] == [None] * len(refused)
