"""`drvtape sessions`, `show`, `events` and `schema`: read the store, render for people or programs."""

import csv
import json
import re
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from drvtape.cli.app import app, open_store
from drvtape.cli.render import hexval, out, print_json
from drvtape.errors import DrvtapeError
from drvtape.formats import jsonl as interchange
from drvtape.schema.events import CallEvent, EndEvent, EndReason, Event, FaultEvent, MarkEvent, ReturnEvent
from drvtape.schema.messages import DRV_EXITSESSION, message_name, parse_message
from drvtape.schema.payloads import AcmDrvOpenDescW, DrvConfigInfo, IcOpen, RawBytes, WideString
from drvtape.schema.rows import KIND_BY_NAME, Kind
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT64_MAX, as_signed64, fits_64_bits
from drvtape.store import EventFilter, SessionSummary

# ---- parsing option values (errors are DrvtapeError: one line, exit 2) ----------------------


def _integer(text: str) -> int:
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    digits = body.lstrip("+-")
    try:
        return sign * (int(digits, 16) if digits.lower().startswith("0x") else int(digits, 10))
    except ValueError:
        raise DrvtapeError(f"{text!r} is not an integer (decimal or 0x hex)") from None


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise DrvtapeError(f"{text!r} must be a positive integer")
    # A seq or a limit beyond the store's 64-bit integers selects the same as the largest one.
    return min(value, INT64_MAX)


def _result(text: str) -> int:
    value = _integer(text)
    if not fits_64_bits(value):
        raise DrvtapeError(f"result {text!r} does not fit in 64 bits")
    return as_signed64(value)  # LRESULT is signed: 0xFFFFFFFFFFFFFFFF means -1


def _kind(text: str) -> Kind:
    kind = KIND_BY_NAME.get(text.strip().lower())
    if kind is None:
        raise DrvtapeError(f"unknown event kind {text!r}: use {', '.join(KIND_BY_NAME)}")
    return kind


_FORMATS = ("table", "json", "csv")


def _format(text: str) -> str:
    if text.lower() not in _FORMATS:
        raise DrvtapeError(f"unknown format {text!r}: use {', '.join(_FORMATS)}")
    return text.lower()


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|ms|us|ns)", re.IGNORECASE)
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _offset_ns(text: str, started_at: datetime) -> int:
    """A TIME option as nanoseconds from the session start: a duration, or an ISO-8601 UTC time.
    Clamped to the store's 64-bit integers: a time beyond them selects the same events."""
    return max(INT64_MIN, min(INT64_MAX, _unclamped_offset_ns(text, started_at)))


def _unclamped_offset_ns(text: str, started_at: datetime) -> int:
    body = text.strip()
    if body.isascii() and body.isdigit():  # not str.isdigit alone: it is true for '²', which int() refuses
        try:
            return int(body)
        except ValueError:  # more digits than int() converts: far past any 64-bit time
            return INT64_MAX
    match = _DURATION.fullmatch(body)
    if match:
        return int(Decimal(match[1]) * _NS_PER_UNIT[match[2].lower()])
    try:
        when = datetime.fromisoformat(body)
    except ValueError:
        raise DrvtapeError(
            f"{text!r} is not a time: give a duration from the session start (1.5s, 250ms, 40us, 100ns, "
            "or integer ns) or an ISO-8601 UTC time"
        ) from None
    delta = when.replace(tzinfo=when.tzinfo or timezone.utc) - started_at
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def _thread_names(threads: list[int]) -> dict[int, str]:
    """T0, T1, ... for a session's OS thread ids, given in order of first appearance."""
    return {thread: f"T{n}" for n, thread in enumerate(threads)}


def _thread(text: str, names: dict[int, str]) -> int:
    by_name = {name.lower(): thread for thread, name in names.items()}
    body = text.strip().lower()
    if body.startswith("t"):
        if body not in by_name:
            raise DrvtapeError(f"no thread {text!r} in this session (it has {', '.join(names.values()) or 'none'})")
        return by_name[body]
    value = _integer(text)
    if not 0 <= value <= UINT64_MAX:
        raise DrvtapeError(f"thread id {text!r} is not an unsigned 64-bit value")
    return value


# ---- rendering ------------------------------------------------------------------------------


def _add_row(table: Table, cells) -> None:
    table.add_row(*(Text(cell) for cell in cells))  # recorded text is data, never rich markup


def _print_table(table: Table) -> None:
    if out.is_terminal:
        out.print(table)
        return
    # Piped output is read by grep and friends: never shrink or cut it to a terminal's width
    # (Console.print's width= cannot exceed the console's own width, hence a console for it).
    natural = Measurement.get(out, out.options.update(max_width=1_000_000), table).maximum
    Console(highlight=False, width=max(out.width, natural)).print(table)


def _outcome(s: SessionSummary) -> str:
    if s.fault_seq is not None:
        return f"fault at seq {s.fault_seq}"
    if s.end_reason is EndReason.HANG:
        return f"hang at seq {s.hang_seq}"
    return "open" if s.end_reason is None else "completed"


def _summary_json(s: SessionSummary) -> dict:
    return {
        **s.header.model_dump(mode="json"), "events": s.events, "calls": s.calls, "threads": s.threads,
        "outcome": _outcome(s), "end_reason": s.end_reason.value if s.end_reason else None,
        "fault_seq": s.fault_seq, "hang_seq": s.hang_seq,
    }


def _event_json(ev: Event) -> dict:
    msg = getattr(ev, "msg", None)
    return {**ev.model_dump(mode="json"), "msg_name": None if msg is None else message_name(msg)}


def _fourcc(value: int) -> str:
    text = value.to_bytes(4, "little").decode("latin-1")
    return text if text.isprintable() else f"0x{value:08X}"


def _payload_text(p) -> str:
    if isinstance(p, WideString):
        return json.dumps(p.text, ensure_ascii=False)
    if isinstance(p, IcOpen):
        return f"ICOPEN({_fourcc(p.fccType)}/{_fourcc(p.fccHandler)})"
    if isinstance(p, AcmDrvOpenDescW):
        return f"ACMDRVOPENDESCW({_fourcc(p.fccType)}/{_fourcc(p.fccComp)})"
    if isinstance(p, DrvConfigInfo):
        return f"DRVCONFIGINFO({json.dumps(p.section, ensure_ascii=False)}, {json.dumps(p.alias, ensure_ascii=False)})"
    if isinstance(p, RawBytes):
        return f"bytes[{len(p.hex) // 2}]"
    raise TypeError(f"unknown payload {p!r}")


def _lparams(ev: Event) -> tuple:
    if not isinstance(ev, CallEvent):
        return None, None
    copied = (ev.payload.lparam1, ev.payload.lparam2) if ev.payload else (None, None)
    return tuple(value if c is None else _payload_text(c) for value, c in zip((ev.lparam1, ev.lparam2), copied))


def _detail(ev: Event):
    if isinstance(ev, ReturnEvent):
        return ev.result
    if isinstance(ev, FaultEvent):
        where = f" at {ev.module or '?'}+0x{ev.offset:X}" if ev.offset is not None else ""
        return f"fault 0x{ev.code:08X}{where}" + (f": {ev.description}" if ev.description else "")
    if isinstance(ev, MarkEvent):
        return ev.text
    if isinstance(ev, EndEvent):
        return ev.reason.value + (f": {ev.detail}" if ev.detail else "")
    return None


EVENT_COLUMNS = ("seq", "kind", "t", "thread", "msg", "driver_id", "hdrvr", "lparam1", "lparam2", "result")


def _event_cells(ev: Event, threads: dict[int, str]) -> list:
    """One event as EVENT_COLUMNS: 64-bit values stay ints (the format chooses hex or decimal)."""
    msg = getattr(ev, "msg", None)
    return [
        str(ev.seq), ev.kind, f"{ev.ts_ns // 10**6}.{ev.ts_ns % 10**6 // 1000:03d}", threads[ev.thread],
        "" if msg is None else message_name(msg), getattr(ev, "driver_id", None), getattr(ev, "hdrvr", None),
        *_lparams(ev), _detail(ev),
    ]


def _print_events_table(events: list[Event], threads: dict[int, str]) -> None:
    table = Table(*EVENT_COLUMNS)
    for ev in events:
        _add_row(table, (hexval(v) if isinstance(v, int) or v is None else v for v in _event_cells(ev, threads)))
    _print_table(table)


def _write_events_csv(events: list[Event], threads: dict[int, str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    for ev in events:
        writer.writerow("" if v is None else str(v) for v in _event_cells(ev, threads))


# ---- commands -------------------------------------------------------------------------------


@app.command()
def sessions(
    ctx: typer.Context,
    machine: str = typer.Option(None, "--machine", metavar="M", help="Only sessions recorded on this machine."),
    driver: str = typer.Option(None, "--driver", metavar="TEXT", help="Only drivers whose name contains TEXT."),
    with_msg: int = typer.Option(None, "--with-msg", metavar="MSG", parser=parse_message,
                                 help="Only sessions that received this message, e.g. DRV_EXITSESSION."),
    limit: int = typer.Option(None, "--limit", metavar="N", parser=_positive, help="Only the newest N sessions."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """List the recorded sessions, oldest first."""
    with open_store(ctx) as store:
        found = store.sessions(machine=machine, driver=driver, with_msg=with_msg, limit=limit)
    if as_json:
        print_json([_summary_json(s) for s in found])
        return
    table = Table("id", "started (UTC)", "driver", "target", "machine", "events", "calls", "threads",
                  "outcome", "end reason")
    for s in found:
        h = s.header
        _add_row(table, (str(h.id)[:8], h.started_at.strftime("%Y-%m-%d %H:%M:%S"), h.driver, h.target or "",
                         h.machine, str(s.events), str(s.calls), str(s.threads), _outcome(s),
                         s.end_reason.value if s.end_reason else ""))
    _print_table(table)


@app.command()
def show(
    ctx: typer.Context,
    session: str = typer.Argument(..., metavar="SESSION", help="UUID, unique prefix, or 'last'."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """One session: its header, calls per message, threads, outcome and DRV_EXITSESSION events."""
    with open_store(ctx) as store:
        stored = store.resolve(session)
        summary = store.summary(stored.pk)
        threads = _thread_names(store.threads(stored.pk))
        per_msg = {message_name(code): count for code, count in store.call_counts(stored.pk).items()}
        end = next(iter(store.events(stored.pk, EventFilter(kinds=(Kind.END,)))), None)
        exits = store.events(stored.pk, EventFilter(msgs=(DRV_EXITSESSION,)))
    if as_json:
        print_json({
            "session": _summary_json(summary),
            "calls_by_msg": per_msg,
            "threads": [{"name": name, "thread": thread} for thread, name in threads.items()],
            "end": end.model_dump(mode="json") if end else None,
            "exitsession": [_event_json(ev) for ev in exits],
        })
        return
    grid = Table.grid(padding=(0, 2))
    for key, value in stored.header.model_dump(mode="json").items():
        _add_row(grid, (key, "" if value is None else str(value)))
    _add_row(grid, ("events", f"{summary.events} ({summary.calls} calls)"))
    _add_row(grid, ("threads", ", ".join(f"{name} = {thread} ({hexval(thread)})" for thread, name in threads.items())))
    _add_row(grid, ("outcome", _outcome(summary)))
    _add_row(grid, ("end", _detail(end) if end else "none: the recording is open or was cut off"))
    _print_table(grid)
    per_msg_table = Table("msg", "calls")
    for name, count in per_msg.items():
        _add_row(per_msg_table, (name, str(count)))
    _print_table(per_msg_table)
    if exits:
        out.print("DRV_EXITSESSION events:")
        _print_events_table(exits, threads)
    else:
        out.print("no DRV_EXITSESSION events")


@app.command()
def events(
    ctx: typer.Context,
    session: str = typer.Argument(..., metavar="SESSION", help="UUID, unique prefix, or 'last'."),
    msg: list[int] = typer.Option(None, "--msg", metavar="MSG", parser=parse_message,
                                  help="A message name or number (repeatable)."),
    kind: list[Kind] = typer.Option(None, "--kind", metavar="KIND", parser=_kind,
                                    help="call, return, fault, mark or end (repeatable)."),
    thread: list[str] = typer.Option(None, "--thread", metavar="T",
                                     help="An OS thread id, or T<n> as `show` numbers them (repeatable)."),
    from_seq: int = typer.Option(None, "--from-seq", metavar="N", parser=_positive, help="From seq N on."),
    to_seq: int = typer.Option(None, "--to-seq", metavar="N", parser=_positive, help="Up to seq N."),
    since: str = typer.Option(None, "--since", metavar="TIME",
                              help="From this time: 1.5s, 250ms, 40us, 100ns or integer ns after the start, "
                                   "or an ISO-8601 UTC time."),
    until: str = typer.Option(None, "--until", metavar="TIME", help="Up to this time (as --since)."),
    result: list[int] = typer.Option(None, "--result", metavar="N", parser=_result,
                                     help="Return events with this result (repeatable)."),
    fmt: str = typer.Option("table", "--format", metavar="table|json|csv", parser=_format),
    limit: int = typer.Option(None, "--limit", metavar="N", parser=_positive, help="At most N events."),
) -> None:
    """A session's events in seq order, filtered."""
    with open_store(ctx) as store:
        stored = store.resolve(session)
        threads = _thread_names(store.threads(stored.pk))
        started = stored.header.started_at
        flt = EventFilter(
            msgs=tuple(msg or ()), kinds=tuple(kind or ()), threads=tuple(_thread(t, threads) for t in thread or ()),
            from_seq=from_seq, to_seq=to_seq,
            from_ts_ns=None if since is None else _offset_ns(since, started),
            to_ts_ns=None if until is None else _offset_ns(until, started),
            results=tuple(result or ()), limit=limit,
        )
        found = store.events(stored.pk, flt)
    if fmt == "json":
        print_json([_event_json(ev) for ev in found])
    elif fmt == "csv":
        _write_events_csv(found, threads)
    else:
        _print_events_table(found, threads)


@app.command()
def schema(
    output: Path = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."),
) -> None:
    """Print the JSON Schema of one line of the JSONL interchange format (import/export)."""
    text = json.dumps(interchange.json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DrvtapeError(f"cannot write {output}: {exc.strerror}") from None
