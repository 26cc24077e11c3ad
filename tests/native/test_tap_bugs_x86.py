"""The shutdown bugs (domain.md 1-4) in 32-bit: the test drivers, the tap and the winmm client
built with i686-w64-mingw32-gcc, run under Wine's 32-bit loader, the tape (pointer size 4)
ingested and the session replayed with `dll:` choosing the x86 drvhost by the DLL's PE
machine. The same tests as the 64-bit ones, run with the x86 builds."""
from pathlib import Path

import pytest

from drvtape.dllhost.arch import X86
from drvtape.dllhost.build import build_drvhost
from drvtape.dllhost.pe import pe_arch
from drvtape.formats.tape import TapeHeader, records
from drvtape.schema.messages import DRV_CLOSE, DRV_FREE

from test_drvtap import run_client
from test_drvtap import test_with_lparam2_zero_wine_opens_no_hidden_instance_and_msrle32_replays as msrle32
from test_drvtap import test_a_crash_in_the_driver_is_on_the_tape_and_replays_5_of_5 as bug2
from test_tap_bugs import (test_bug1_exitsession_spinning_while_another_thread_opens_is_recorded_and_hangs_5_of_5
                           as bug1)
from test_tap_bugs import test_bug3_close_after_disable_is_recorded_and_faults_5_of_5 as bug3
from test_tap_bugs import test_bug4_close_on_another_thread_is_recorded_and_refused_5_of_5 as bug4
from test_record_dll import test_a_crash_during_recording_ends_the_session_as_a_crash_with_its_fault as workload_crash
from test_record_dll import test_a_hang_during_recording_ends_the_session_as_a_hang as workload_hang


def test_bug1_in_32_bit_hangs_5_of_5(tmp_path, tap_x86, client_x86, driver_x86, drvtape):
    bug1(tmp_path, tap_x86, client_x86, driver_x86, drvtape)


def test_bug2_in_32_bit_faults_5_of_5(tmp_path, tap_x86, client_x86, driver_x86, drvtape):
    bug2(tmp_path, tap_x86, client_x86, driver_x86, drvtape)


def test_bug3_in_32_bit_faults_5_of_5(tmp_path, tap_x86, client_x86, driver_x86, drvtape):
    bug3(tmp_path, tap_x86, client_x86, driver_x86, drvtape)


def test_bug4_in_32_bit_is_refused_5_of_5(tmp_path, tap_x86, client_x86, driver_x86, drvtape):
    bug4(tmp_path, tap_x86, client_x86, driver_x86, drvtape)


@pytest.mark.parametrize(("name", "workload", "faulting"), [
    ("use_after_release", "use-after-release.toml", DRV_CLOSE),
    ("free_with_open", "disable-with-open.toml", DRV_FREE),
])
def test_a_32_bit_workload_crash_recorded_through_the_x86_tap_replays_5_of_5(drvtape, tmp_path, driver_x86, name,
                                                                            workload, faulting):
    workload_crash(drvtape, tmp_path, driver_x86, name, workload, faulting)


def test_a_32_bit_workload_hang_recorded_through_the_x86_tap_replays_5_of_5(drvtape, tmp_path, driver_x86):
    workload_hang(drvtape, tmp_path, driver_x86)


def test_the_32_bit_builds_are_x86_and_their_tape_says_4_byte_pointers(tmp_path, tap_x86, client_x86, driver_x86):
    real = driver_x86("thread_affinity")
    assert {pe_arch(Path(p)) for p in (tap_x86, client_x86, real, build_drvhost(X86))} == {X86}
    tape = tmp_path / "x86.drvtape"
    proc = run_client(client_x86, tap_x86, "affinity", real=real, tape=tape)
    assert proc.returncode == 0, proc.stderr
    (header,) = [r for r in records(tape.read_bytes(), []) if isinstance(r, TapeHeader)]
    assert header.pointer_size == 4


def test_wines_32_bit_msrle32_recorded_through_the_x86_tap_replays(tmp_path, tap_x86, client_x86, wine_drivers_x86,
                                                                  drvtape):
    msrle32(tmp_path, tap_x86, client_x86, wine_drivers_x86, drvtape)
