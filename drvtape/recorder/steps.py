"""One step of a workload: its fields (docs/workloads.md) and what running it asks of the system."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drvtape.runtime.schedule import StopRun
from drvtape.runtime.system import DriverSystem
from drvtape.schema.messages import parse_message
from drvtape.schema.payloads import MAX_TEXT_CHARS
from drvtape.schema.values import as_signed64, fits_64_bits

Param = int | str


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["open", "send", "close", "shutdown", "exit"]
    instance: str | None = Field(None, min_length=1, max_length=200)
    msg: int | None = None
    lparam1: Param = 0
    lparam2: Param = 0
    thread: str = Field("main", min_length=1, max_length=200)

    @field_validator("msg", "lparam1", "lparam2", mode="before")
    @classmethod
    def _not_boolean(cls, value):
        if isinstance(value, bool):  # TOML true is not the number 1
            raise ValueError("a boolean is not a message or an LPARAM: give a number")
        return value

    @field_validator("msg", mode="before")
    @classmethod
    def _message(cls, value):
        if isinstance(value, str):
            return parse_message(value)
        if isinstance(value, int) and not 0 <= value <= 0xFFFFFFFF:
            raise ValueError("a message number is a UINT: 0..0xFFFFFFFF")
        return value

    @field_validator("lparam1", "lparam2")
    @classmethod
    def _lparam(cls, value):
        if isinstance(value, int):
            if not fits_64_bits(value):
                raise ValueError("an LPARAM is 64 bits: -2**63..2**64-1")
            return as_signed64(value)  # LPARAM is signed: 0xFFFFFFFFFFFFFFFF means -1
        if len(value) > MAX_TEXT_CHARS:  # checked here, before the session is begun
            raise ValueError(f"a string LPARAM of {len(value)} characters is too long: at most {MAX_TEXT_CHARS}")
        return value


def step_runner(system: DriverSystem, step: Step, number: int, skipped: Callable[[str], object]):
    """The step as a callable for the schedule; `skipped` is told of a step whose instance is not open."""
    def run():
        if step.action == "exit":
            raise StopRun("the workload's exit step")
        if step.action == "open":
            system.open(step.instance, step.lparam1, step.lparam2)
            return
        inst = system.instance(step.instance) if step.instance else None
        if step.instance and inst is None:
            skipped(f"step {number} ({step.action} {step.instance}) skipped: the instance is not open")
            return
        if step.action == "send":
            system.send(inst, step.msg, step.lparam1, step.lparam2)
        elif step.action == "close":
            system.close(inst, step.lparam1, step.lparam2)
        else:
            system.shutdown(inst)

    return run
