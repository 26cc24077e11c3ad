"""native/common/memcatalog.h is what drvtape/schema/memory/gen_c.py writes from the catalog:
editing the catalog without regenerating it fails here."""

import subprocess
import sys

from drvtape.schema.memory.catalog import message_memory
from drvtape.schema.memory.classes import DriverClass
from drvtape.schema.memory.gen_c import HEADER_PATH, entries, render


def test_the_checked_in_header_is_what_the_generator_writes():
    assert HEADER_PATH.read_text(encoding="utf-8") == render(), (
        "native/common/memcatalog.h is stale: run python -m drvtape.schema.memory.gen_c")


def test_the_generator_rejects_arguments_with_exit_2():
    proc = subprocess.run([sys.executable, "-m", "drvtape.schema.memory.gen_c", "extra"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_entries_are_sorted_for_dm_find_and_drv_messages_appear_once():
    rows = entries()
    keys = [(list(DriverClass).index(cls), m.code) for cls, m in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert sum(1 for _, m in rows if m.name == "DRV_OPEN") == 1


def test_every_node_of_the_c_table_has_its_python_entry():
    text = HEADER_PATH.read_text(encoding="utf-8")
    assert '0x400Du, "ICM_DECOMPRESS"' in text and '0x604Fu, "ACMDM_STREAM_CONVERT"' in text
    entry = message_memory(DriverClass.VFW, 0x400D)
    for node in entry.nodes:
        assert f'"{node.path}"' in text
