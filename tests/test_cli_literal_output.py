"""Recorded strings print literally: rich markup and emoji codes in a session are data."""

import pytest

from drvtape.schema.events import EndEvent, FaultEvent, MarkEvent
from drvtape.store import Store

CRAFTED = "[/bold][red]x[/red] :notes: [link=file:///etc]"
EMOJI = "\N{MULTIPLE MUSICAL NOTES}"


@pytest.fixture
def crafted_db(tmp_path, tapes):
    """The shutdown session with crafted text in every string a recording holds."""
    tape = tapes.shutdown()
    tape.header = tape.header.model_copy(update={
        "driver": f"drv {CRAFTED}", "target": f"sim:disable-with-open {CRAFTED}", "machine": f"box {CRAFTED}",
        "process": f"app {CRAFTED}"})
    for n, ev in enumerate(tape.events):
        if isinstance(ev, FaultEvent):
            tape.events[n] = ev.model_copy(update={"module": CRAFTED, "description": CRAFTED})
        elif isinstance(ev, MarkEvent):
            tape.events[n] = ev.model_copy(update={"text": CRAFTED})
        elif isinstance(ev, EndEvent):
            tape.events[n] = ev.model_copy(update={"detail": CRAFTED})
    path = tmp_path / "crafted.db"
    with Store.open(str(path), create=True) as store:
        tape.store_in(store)
        tapes.clean().store_in(store)
    return path


@pytest.mark.parametrize("args", [
    ["sessions"], ["sessions", "--wide"], ["show", "aaaa"], ["events", "aaaa"], ["state", "aaaa"],
    ["lint", "--all"], ["verify", "--all"],
    ["replay", "aaaa", "-t", "sim:disable-with-open"],
    ["diff", "aaaa", "bbbb"], ["diff", "bbbb", "aaaa"],
    ["explore", "aaaa", "-t", "sim:disable-with-open", "--budget", "3"],
    ["minimize", "aaaa", "-t", "sim:disable-with-open", "--max-replays", "5"],
], ids=" ".join)
def test_crafted_markup_and_emoji_codes_print_as_they_were_recorded(drvtape, crafted_db, args):
    result = drvtape("--db", crafted_db, *args)
    assert result.code in (0, 1, 2), result.stderr  # minimize: the crafted fault is not the one replay gets
    assert EMOJI not in result.stdout + result.stderr
    assert "[/bold]" in result.stdout or args[0] in ("lint", "verify", "state", "minimize"), result.stdout


def test_a_crafted_fault_module_is_shown_whole_by_replay(drvtape, crafted_db):
    result = drvtape("--db", crafted_db, "replay", "aaaa", "-t", "sim:disable-with-open")
    assert f"recorded fault 0xC0000005 in {CRAFTED}+0x4F2" in " ".join(result.stdout.split()), result.stdout
