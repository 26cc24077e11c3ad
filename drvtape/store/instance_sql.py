"""The class of the instance an event went to, in SQL (SQLite and PostgreSQL): what
drvtape.schema.memory.classes tells from a session's DRV_OPENs and DRV_CLOSEs, for the views
(drvtape.store.views) and the message filters (drvtape.store.queries).

An instance is the dwDriverId a DriverProc DRV_OPEN returned (nonzero), from that return up
to its DRV_CLOSE call, or to just before a later DRV_OPEN returned the same id. Its class is
what that DRV_OPEN's copied lParam2 tells (ICOPEN, ACMDRVOPENDESCW, MCI_OPEN_DRIVER_PARMS:
classes.class_of_open), else the session's alias (classes.session_class_hint), else drv.

The opens' returns and the closes' calls each have a small partial index (drvtape.store.tables:
one entry per instance); a query uses one only when its WHERE holds the index's own terms,
OPENED and CLOSING below, written with literals.
"""

from __future__ import annotations

from drvtape.schema.memory.classes import (
    ACM_TYPES, ALIAS_PREFIXES, MAX_MCI_DEVICE_ID, MCI_DEVICE_TYPES, MCI_OPEN_DRIVER_PARMS_SIZES, VFW_TYPES,
    DriverClass,
)
from drvtape.schema.messages import DRV_CLOSE, DRV_OPEN
from drvtape.schema.rows import CALL, RETURN

# The partial indexes' predicates (drvtape.store.tables), for a table alias
# (format with "alias." or "", as the index itself has it)
OPENED = "{0}kind = %d AND {0}msg = %d AND {0}entry_point IS NULL" % (RETURN, DRV_OPEN)
CLOSING = "{0}kind = %d AND {0}msg = %d AND {0}entry_point IS NULL" % (CALL, DRV_CLOSE)
# PostgreSQL 15 has no test for valid JSON (IS JSON is 16's): a cast that gives NULL instead
PG_JSON_OR_NULL = """CREATE OR REPLACE FUNCTION drvtape_json(text) RETURNS json LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN $1::json; EXCEPTION WHEN others THEN RETURN NULL; END $$"""


class Dialect:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, name: str):
        self.sqlite = name == "sqlite"

    def hex64(self, x: str) -> str:
        # SQLite's %X and PostgreSQL's to_hex(bigint) both print a negative BIGINT's 64 bits
        digits = f"printf('%X', {x})" if self.sqlite else f"upper(to_hex({x}))"
        return f"CASE WHEN {x} IS NULL THEN NULL ELSE '0x' || {digits} END"

    def hex4(self, x: str) -> str:
        return f"printf('0x%04X', {x})" if self.sqlite else f"'0x' || lpad(upper(to_hex({x})), 4, '0')"

    def iso(self, micros: str) -> str:
        if self.sqlite:
            return (f"strftime('%Y-%m-%dT%H:%M:%S', ({micros}) / 1000000, 'unixepoch') "
                    f"|| printf('.%06dZ', ({micros}) % 1000000)")
        return (f"to_char(TIMESTAMP 'epoch' + ({micros}) * INTERVAL '1 microsecond', "
                f"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")

    def json_text(self, column: str, *keys: str) -> str:
        """The text at keys of a JSON object column; NULL when absent or the column is not JSON."""
        if self.sqlite:
            return (f"CASE WHEN json_valid({column}) "
                    f"THEN CAST(json_extract({column}, '$.{'.'.join(keys)}') AS TEXT) END")
        path = "".join(f" -> '{k}'" for k in keys[:-1])
        return f"(drvtape_json({column}){path} ->> '{keys[-1]}')"


def _in(expr: str, values) -> str:
    listed = ", ".join(f"'{v}'" for v in sorted(values))
    return f"{expr} IN ({listed})"


def _dword_hex(fcc: int) -> str:
    """A FOURCC as the payload's hex shows its 4 bytes (lower case)."""
    return fcc.to_bytes(4, "little").hex()


def _is_mci_open(d: Dialect, payload: str) -> str:
    """classes.is_mci_open of DRV_OPEN's copied lParam2 bytes (hex text, either case): its size,
    a wDeviceID of 1..0xFFFF (little-endian: the low two bytes nonzero, the high two zero)
    and no VfW or ACM FOURCC in its second DWORD."""
    assert MAX_MCI_DEVICE_ID == 0xFFFF  # what the byte test below spells
    data = f"lower({d.json_text(payload, 'lparam2', 'hex')})"
    sizes = ", ".join(str(2 * size) for size in MCI_OPEN_DRIVER_PARMS_SIZES)
    return (f"{d.json_text(payload, 'lparam2', 'type')} = 'bytes' AND length({data}) IN ({sizes}) "
            f"AND substr({data}, 5, 4) = '0000' AND substr({data}, 1, 4) <> '0000' "
            f"AND NOT {_in(f'substr({data}, 9, 8)', {_dword_hex(f) for f in VFW_TYPES | ACM_TYPES})}")


def class_of_open(d: Dialect, payload: str, driver: str) -> str:
    """classes.class_of_open of a DRV_OPEN call's payload, else session_class_hint(driver)."""
    kind, fcc = d.json_text(payload, "lparam2", "type"), d.json_text(payload, "lparam2", "fccType")
    alias = f"lower(trim({driver}))"
    hints = " ".join(f"WHEN substr({alias}, 1, {len(prefix)}) = '{prefix}' THEN '{cls.value}'"
                     for prefix, cls in ALIAS_PREFIXES)
    return (f"CASE WHEN {kind} = 'ICOPEN' AND {_in(fcc, VFW_TYPES)} THEN '{DriverClass.VFW.value}' "
            f"WHEN {kind} = 'ACMDRVOPENDESCW' AND {_in(fcc, ACM_TYPES)} THEN '{DriverClass.ACM.value}' "
            f"WHEN {_is_mci_open(d, payload)} THEN '{DriverClass.MCI.value}' "
            f"WHEN {_in(alias, MCI_DEVICE_TYPES)} THEN '{DriverClass.MCI.value}' "
            f"{hints} ELSE '{DriverClass.DRV.value}' END")


def instance_class_is(d: Dialect, event: str, cls: str) -> str:
    """Whether the DriverProc event `event` (a table name or alias) went to an instance whose
    class is cls (SQL text: a literal or a bind parameter). For a per-event test, as the
    message filters need; the views compute every instance once instead."""
    return f"""EXISTS (SELECT 1 FROM events r
  JOIN events c ON c.session_pk = r.session_pk AND c.seq = r.call_seq
  JOIN sessions s ON s.pk = r.session_pk
  WHERE r.session_pk = {event}.session_pk AND {OPENED.format('r.')} AND r.result = {event}.driver_id
    AND r.result <> 0 AND r.seq <= {event}.seq
    AND NOT EXISTS (SELECT 1 FROM events x WHERE x.session_pk = r.session_pk AND {CLOSING.format('x.')}
                    AND x.driver_id = r.result AND x.seq > r.seq AND x.seq < {event}.seq)
    AND NOT EXISTS (SELECT 1 FROM events l WHERE l.session_pk = r.session_pk AND {OPENED.format('l.')}
                    AND l.result = r.result AND l.seq > r.seq AND l.seq <= {event}.seq)
    AND {class_of_open(d, 'c.payload', 's.driver')} = {cls})"""
