"""`drvtape state SESSION`: the driver's state at a seq (drvtape.analysis.state)."""

import typer

from drvtape.analysis.state import DriverState, fold
from drvtape.cli.app import app, examples, open_store
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, SESSION, output_format
from drvtape.cli.output import Format, add_row, out, print_json, print_table, table
from drvtape.cli.values import positive, thread_names
from drvtape.errors import DrvtapeError
from drvtape.schema.memory.catalog import message_name
from drvtape.schema.memory.classes import InstanceClasses, session_class_hint
from drvtape.schema.entry_points import entry_point_of
from drvtape.schema.rows import Kind
from drvtape.present.text import hex_value


def call_names(rows, driver: str) -> dict[int, str]:
    """{call seq: its message's name by the class of the instance it went to}."""
    classes = InstanceClasses.from_rows(rows, session_class_hint(driver))
    return {r.seq: message_name(r.msg, classes.of_call(r.seq, r.driver_id, entry_point_of(r.entry_point)))
            for r in rows if r.kind == Kind.CALL}


def _state_json(state: DriverState, names: dict[int, str], msg_names: dict[int, str]) -> dict:
    return {
        "at": state.at, "loaded": state.loaded, "enabled": state.enabled, "freed": state.freed,
        "instances": [{"driver_id": i.driver_id, "hdrvr": i.hdrvr, "opened_seq": i.seq, "thread": names[i.thread],
                       "thread_id": i.thread} for i in state.instances],
        "in_flight": [{"seq": c.seq, "msg": c.msg, "msg_name": msg_names[c.seq], "thread": names[c.thread],
                       "thread_id": c.thread, "depth": c.depth, "driver_id": c.driver_id, "hdrvr": c.hdrvr}
                      for c in state.in_flight],
        "last": [{"thread": names[t], "thread_id": t, "seq": m.seq, "msg": m.msg, "msg_name": msg_names[m.seq],
                  "status": m.status, "result": m.result} for t, m in state.last.items()],
    }


def _print_state(state: DriverState, names: dict[int, str], msg_names: dict[int, str]) -> None:
    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    out.print(f"at seq {state.at}: loaded {yes(state.loaded)}, enabled {yes(state.enabled)}, "
              f"freed {yes(state.freed)}")
    instances = table("dwDriverId", "hdrvr", "opened at seq", "thread", title="open instances")
    for i in state.instances:
        add_row(instances, (hex_value(i.driver_id), hex_value(i.hdrvr), str(i.seq), names[i.thread]))
    calls = table("seq", "msg", "thread", "depth", "driver_id", "hdrvr", title="calls in flight", keys=("msg",))
    for c in state.in_flight:
        add_row(calls, (str(c.seq), msg_names[c.seq], names[c.thread], str(c.depth), hex_value(c.driver_id),
                        hex_value(c.hdrvr)))
    last = table("thread", "seq", "msg", "status", "result", title="last message per thread", keys=("msg",))
    for thread, m in state.last.items():
        add_row(last, (names[thread], str(m.seq), msg_names[m.seq], m.status, hex_value(m.result)))
    for tbl in (instances, calls, last):
        print_table(tbl)


@app.command(epilog=examples("drvtape state last", "drvtape state last --at 17 --json"))
def state(
    ctx: typer.Context,
    session: str = SESSION,
    at: int = typer.Option(None, "--at", metavar="SEQ", parser=positive, show_default="the end of the session",
                           help="The state after this seq."),
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """The driver's state at a seq: loaded/enabled, open instances, calls in flight, last message per thread."""
    fmt = output_format(fmt, as_json)
    with open_store(ctx, read_only=True) as store:
        stored = store.resolve(session)
        rows = store.rows(stored.pk)
        names = thread_names(store.threads(stored.pk))
    if at is not None and (not rows or at > rows[-1].seq):
        raise DrvtapeError(f"--at {at}: session {stored.header.id} has {len(rows)} events")
    found = fold(rows, at)
    msg_names = call_names(rows, stored.header.driver)
    if fmt is Format.JSON:
        print_json({"session": str(stored.header.id), **_state_json(found, names, msg_names)})
    else:
        _print_state(found, names, msg_names)
