"""The calls and rows the in-process figures make: an opened sim instance, a session header
of this process, and call/return rows as the hook buffers them."""

from __future__ import annotations

import os
import platform
import uuid
from collections.abc import Callable

from drvtape import __version__
from drvtape.schema import messages as m
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.rows import Kind

DRV_USER_1 = m.DRV_USER + 1
CALL, RETURN = int(Kind.CALL), int(Kind.RETURN)  # plain ints, as the hook buffers them
THREAD_IDENT = 0x7F3A_5C2D_E700  # a realistic Linux pthread id


def open_instance(proc: Callable) -> tuple[int, int, int]:
    """DRV_LOAD, DRV_ENABLE, DRV_OPEN through proc: (driver_id, hdrvr, calls made)."""
    hdrvr = 0x7E10
    proc(0, hdrvr, m.DRV_LOAD, 0, 0)
    proc(0, hdrvr, m.DRV_ENABLE, 0, 0)
    return proc(0, hdrvr, m.DRV_OPEN, 0, 0), hdrvr, 3


def new_header(driver: str = "bench") -> SessionHeader:
    return SessionHeader(id=uuid.uuid4(), driver=driver, target=driver, machine=platform.node(), os=platform.platform(),
                         process="bench", pid=os.getpid(), recorder_version=__version__, started_at=utc_now(),
                         clock="perf_counter_ns", source="bench")


def call_return_rows(first_seq: int, pairs: int, msg_at: Callable[[int], int] = lambda i: DRV_USER_1) -> list[tuple]:
    """Rows as the hook writes them (ROW_COLUMNS order): a call and its return per message."""
    rows = []
    for i in range(pairs):
        seq, ts, msg = first_seq + 2 * i, 1_000 * i, msg_at(i)
        rows.append((seq, CALL, ts, THREAD_IDENT, msg, 0x1001, 0x7E10, i, -1, None, None, 0, None, None, None))
        rows.append((seq + 1, RETURN, ts + 400, THREAD_IDENT, msg, 0x1001, 0x7E10, None, None, 0, seq, None,
                     400, None, None))
    return rows
