"""A stored session read back for driving (replay, minimize, explore), and its target."""

import typer

from drvtape.cli.app import open_store
from drvtape.errors import DrvtapeError
from drvtape.replay import Recording, load_recording
from drvtape.runtime.targets import Target, parse_target


def load_with_target(ctx: typer.Context, session: str, target: str | None) -> tuple[Recording, Target]:
    """A stored session, and the target given, or else the one it was recorded against."""
    with open_store(ctx) as store:
        recording = load_recording(store, session)
    spec = target or recording.header.target
    if not spec:
        raise DrvtapeError("the session does not say which target it was recorded against: pass --target")
    return recording, parse_target(spec)


def stored_recording(ctx: typer.Context, session_id: str) -> Recording:
    with open_store(ctx) as store:
        return load_recording(store, session_id)
