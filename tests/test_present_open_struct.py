"""DRV_OPEN's MCI_OPEN_DRIVER_PARMS (issue 13): the copied bytes shown with their fields in
events (table, CSV, --json) and both timelines, x64 or x86 by the copy's size."""

import json
import struct

from drvtape.schema.entry_points import EntryPoint
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.payloads import CallPayloads, RawBytes

from drvtape.present.open_struct import fields_text, mci_open_fields
from tests.test_message_filters import DEVICES, fill, mci_open


FIELDS = {"wDeviceID": 1, "lpstrParams": 0, "wCustomCommandTable": 0xFFFF, "wType": 0x20A}
FIELDS_TEXT = "MCI_OPEN_DRIVER_PARMS(wDeviceID=1, lpstrParams=0x0, wCustomCommandTable=0xFFFF, wType=0x20A)"


def test_an_mci_drv_open_shows_its_struct_fields(tmp_path, tapes, drvtape):
    db = str(tmp_path / "f.db")
    fill(db, tapes)
    opened = json.loads(drvtape("--db", db, "events", DEVICES, "--to-seq", "3", "--json").stdout)
    assert opened[0]["payload"]["lparam2"] == {"type": "bytes", "hex": mci_open().lparam2.hex,
                                               "struct": "MCI_OPEN_DRIVER_PARMS", "fields": FIELDS}
    assert "struct" not in json.dumps(opened[2])  # DRV_OPEN with no MCI struct: as it was
    table = drvtape("--db", db, "events", DEVICES, "--to-seq", "1", "--format", "csv")
    assert FIELDS_TEXT in table.stdout and "bytes[" not in table.stdout
    trace = json.loads(drvtape("--db", db, "timeline", DEVICES, "-o", "-", "--format", "chrome-trace").stdout)
    first = next(e for e in trace["traceEvents"] if e.get("cat") == "call")
    assert first["name"] == "DRV_OPEN" and first["args"]["MCI_OPEN_DRIVER_PARMS"] == FIELDS
    html = drvtape("--db", db, "timeline", DEVICES, "-o", "-").stdout
    assert FIELDS_TEXT in html


def test_an_x86_mci_drv_open_has_the_x86_layout():
    x86 = CallPayloads(lparam2=RawBytes(hex=struct.pack("<IIII", 2, 0x1234, 0xFFFF, 0x201).hex()))
    assert mci_open_fields(x86, DRV_OPEN) == {"wDeviceID": 2, "lpstrParams": 0x1234, "wCustomCommandTable": 0xFFFF,
                                              "wType": 0x201}
    assert fields_text(mci_open_fields(x86, DRV_OPEN)).startswith("MCI_OPEN_DRIVER_PARMS(wDeviceID=2, lpstrParams=0x1234")
    assert mci_open_fields(x86, DRV_CLOSE) is None and mci_open_fields(x86, DRV_OPEN, EntryPoint.MOD) is None
