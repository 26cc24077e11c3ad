"""An integer past 64 bits in a 64-bit field is refused at the boundary: by import with one
line naming the file, line and field (orjson reads such an integer as a float: the line is
read again so the message names the range, not a float), exit 2 and nothing written; by the
store's codec, for rows given through the API, naming the seq and field, nothing stored.
Before, the codec kept the low 64 bits of an unsigned value silently (2**64+5 stored as 5),
and verify then reported the session tampered."""

import json
import uuid

import pytest

from cli_runner import run_cli
from drvtape.errors import DrvtapeError
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import call_row
from drvtape.schema.values import UINT64_MAX
from drvtape.store import Store
from drvtape.store.appends import EventInserter

HEADER = {"type": "session", "format": "drvtape-jsonl", "version": 1, "id": "aaaa0001-0000-4000-8000-000000000001",
          "driver": "d", "started_at": "2024-05-01T12:00:00Z"}
CALL = {"seq": 1, "ts_ns": 1, "thread": 7, "kind": "call", "msg": 1, "driver_id": 1, "hdrvr": 1, "lparam1": 0,
        "lparam2": 0, "depth": 0, "payload": None}
RETURN = {"seq": 2, "ts_ns": 2, "thread": 7, "kind": "return", "call_seq": 1, "msg": 1, "driver_id": 1, "hdrvr": 1,
          "result": 0, "duration_ns": 1}
LIMITS = {"thread": UINT64_MAX, "driver_id": UINT64_MAX, "hdrvr": UINT64_MAX, "lparam1": -(2**63),
          "result": 2**63 - 1, "ts_ns": 2**63 - 1, "msg": 2**32 - 1}
TOO_FAR = {"thread": 2**64 + 5, "driver_id": 2**64, "hdrvr": 2**70, "lparam1": -(2**63) - 1, "result": 2**64 + 5,
           "ts_ns": 2**64 + 5}
SAYS = {"thread": "less than or equal to 18446744073709551615", "driver_id": "less than or equal to 18446744073709551615",
        "hdrvr": "less than or equal to 18446744073709551615",
        "lparam1": "greater than or equal to -9223372036854775808",
        "result": "less than or equal to 9223372036854775807", "ts_ns": "less than or equal to 9223372036854775807"}


def _file(tmp_path, field: str, value: int):
    call, ret = dict(CALL), dict(RETURN)
    for event in (call, ret):
        if field in event:
            event[field] = value
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(e, separators=(",", ":")) for e in (HEADER, call, ret)) + "\n")
    return path, 2 if field in call else 3


@pytest.mark.parametrize("field", sorted(TOO_FAR))
def test_import_refuses_an_integer_past_its_fields_range_naming_line_and_field(tmp_path, field):
    path, line = _file(tmp_path, field, TOO_FAR[field])
    db = tmp_path / "x.db"
    code, out, err = run_cli("--db", db, "import", path)
    assert (code, out) == (2, "")
    assert err == f"drvtape: error: {path}:{line}: field '{field}': Input should be {SAYS[field]}\n"
    assert not db.exists()


def test_an_existing_database_is_left_as_it_was(tmp_path):
    db = tmp_path / "x.db"
    good, _ = _file(tmp_path, "thread", 7)
    assert run_cli("--db", db, "import", good)[0] == 0
    before = db.read_bytes()
    bad, _ = _file(tmp_path, "hdrvr", 2**64 + 5)
    assert run_cli("--db", db, "import", bad)[0] == 2
    assert db.read_bytes() == before


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_the_limits_themselves_import_and_verify(tmp_path, field):
    path, _ = _file(tmp_path, field, LIMITS[field])
    db = tmp_path / "x.db"
    assert run_cli("--db", db, "import", path)[0] == 0
    code, out, err = run_cli("--db", db, "verify", "--all")
    assert code == 0, out + err


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("field", ["thread", "driver_id", "hdrvr"])
def test_rows_given_to_the_store_past_64_bits_are_refused_with_nothing_stored(tmp_path, field, native):
    with Store.open(tmp_path / "x.db", create=True) as store:
        pk = store.begin_session(SessionHeader(id=uuid.uuid4(), driver="d", started_at=utc_now(), source="test"))
        fields = {"thread": 7, "driver_id": 1, "hdrvr": 1, field: 2**64 + 5}
        rows = [call_row(1, 0, 7, 1, 1, 1, 0, 0, 0), call_row(2, 0, lparam1=0, lparam2=0, depth=0, msg=1, **fields)]
        inserter = store.inserter if native else EventInserter(store.engine, native=False)
        with pytest.raises(DrvtapeError) as info, store.writing() as conn:
            inserter.insert(conn, pk, rows, b"\0" * 16)
        assert str(info.value) == f"seq 2: field '{field}': {2**64 + 5} does not fit in 64 bits"
        assert store.event_count() == 0
