"""A stored session read back for driving (replay, minimize, explore), and its target."""

import typer

from drvtape.cli.app import open_store
from drvtape.replay import Recording, load_recording
from drvtape.replay.target_choice import choose_target
from drvtape.runtime.targets import Target


def load_with_target(ctx: typer.Context, session: str, target: str | None) -> tuple[Recording, Target]:
    """A stored session, and the target given (with --target recorded: the one it was recorded against)."""
    with open_store(ctx) as store:
        recording = load_recording(store, session)
    return recording, choose_target(target, recording.header.target)


def stored_recording(ctx: typer.Context, session_id: str) -> Recording:
    with open_store(ctx) as store:
        return load_recording(store, session_id)
