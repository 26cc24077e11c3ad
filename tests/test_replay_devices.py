"""In-process replay of device entry points (issue 13): a Python target's wodMessage method
gets the session's wodMessage calls, an open's dwUser is a slot for the instance, and the
recorded instance is mapped to this run's for the device's later calls."""

import textwrap

import pytest

from drvtape.errors import DrvtapeError
from drvtape.replay import replay_recording
from drvtape.runtime.targets import parse_target
from drvtape.schema.entry_points import EntryPoint, entry_point_code
from drvtape.schema.events import SessionHeader, utc_now
from drvtape.schema.messages import DRV_FREE, DRV_LOAD
from drvtape.schema.recording import recording_from_rows
from drvtape.schema.rows import call_row, end_row, return_row

WOD = entry_point_code(EntryPoint.WOD)
WODM_GETNUMDEVS, WODM_OPEN, WODM_RESET, WODM_CLOSE = 3, 5, 12, 6  # mingw-w64's mmddk.h
RECORDED_INSTANCE = 0x5150

WAVE_DRIVER = """
    import itertools
    class Driver:
        def __init__(self):
            self.fresh = itertools.count(0x9000)
            self.open = set()
        def __call__(self, driver_id, hdrvr, msg, lparam1, lparam2):
            return 1
        def wodMessage(self, device, msg, user, p1, p2):
            if msg == 3:
                return 1
            if msg == 5:
                user.value = next(self.fresh)
                self.open.add(user.value)
                return 0
            return 0 if user in self.open else 5  # MMSYSERR_INVALHANDLE for an instance never opened
"""


def session():
    rows, seq = [], 0
    for msg, entry, user, result, returned in ((DRV_LOAD, None, 0, 1, 0), (WODM_GETNUMDEVS, WOD, 0, 1, 0),
                                               (WODM_OPEN, WOD, 0, 0, RECORDED_INSTANCE),
                                               (WODM_RESET, WOD, RECORDED_INSTANCE, 0, RECORDED_INSTANCE),
                                               (WODM_CLOSE, WOD, RECORDED_INSTANCE, 0, RECORDED_INSTANCE),
                                               (DRV_FREE, None, 0, 1, 0)):
        rows.append(call_row(seq + 1, seq, 1, msg, user, 0, 0, 0, 0, entry_point=entry))
        rows.append(return_row(seq + 2, seq + 1, 1, msg, returned, 0, result, seq + 1, 1, entry_point=entry))
        seq += 2
    rows.append(end_row(seq + 1, seq, 1, "closed"))
    header = SessionHeader(id="00000000-0000-4000-8000-000000000013", driver="wave", started_at=utc_now())
    return recording_from_rows(header, rows)


def write_module(folder, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")


def test_a_python_targets_wodmessage_replays_the_devices_calls_with_the_instance_mapped(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write_module(tmp_path, "wavedriver", WAVE_DRIVER)
    report = replay_recording(session(), parse_target("py:wavedriver:Driver"), repeat=5)
    assert report.reproduced and len(report.runs) == 5


def test_a_target_without_the_entry_point_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write_module(tmp_path, "nowave", "def DriverProc(driver_id, hdrvr, msg, lparam1, lparam2):\n    return 1\n")
    with pytest.raises(DrvtapeError, match="no wodMessage"):
        replay_recording(session(), parse_target("py:nowave:DriverProc"))
