"""What every figure of bench/run.py measures with: the progress bar on stderr, clocks for
one call, a batch of calls and the garbage collector, and rates."""

from __future__ import annotations

import gc
import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import perf_counter, perf_counter_ns

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

BATCH = 1_000  # calls per timed batch

progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a long step; yields advance(n)."""
    task = progress.add_task(description, total=total)
    try:
        yield lambda n=1: progress.advance(task, n)
    finally:
        progress.remove_task(task)


def batch_ns(fn: Callable, args: tuple, n: int = BATCH) -> float:
    """ns per call of fn(*args), over one batch of n calls (the loop's own cost included)."""
    start = perf_counter_ns()
    for _ in itertools.repeat(None, n):
        fn(*args)
    return (perf_counter_ns() - start) / n


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = perf_counter()
    result = fn(*args, **kwargs)
    return perf_counter() - start, result


@contextmanager
def gc_clock() -> Iterator[dict]:
    """Seconds the cyclic garbage collector ran inside the block, in the yielded dict's "s"."""
    spent, started = {"s": 0.0}, [0.0]

    def on_gc(phase: str, _info: dict) -> None:
        if phase == "start":
            started[0] = perf_counter()
        else:
            spent["s"] += perf_counter() - started[0]

    gc.callbacks.append(on_gc)
    try:
        yield spent
    finally:
        gc.callbacks.remove(on_gc)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")
