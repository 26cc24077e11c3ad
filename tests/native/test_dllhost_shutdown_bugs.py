"""Faults, hangs and thread affinity, with drivers written for the purpose (drivers/*.c)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from drvtape.dllhost import HostCall, run_dll
from drvtape.dllhost.client import run_host

DRV_LOAD, DRV_ENABLE, DRV_OPEN, DRV_CLOSE, DRV_EXITSESSION, DRV_USER = 1, 2, 3, 4, 0xB, 0x4000
EXCEPTION_ACCESS_VIOLATION = 0xC0000005


def calls(*spec) -> list[HostCall]:
    """spec: (thread, msg[, driver_id]) per call; seqs 1.. in order."""
    return [HostCall(seq=i, thread=s[0], driver_id=s[2] if len(s) > 2 else 0, hdrvr=0x10, msg=s[1],
                     lparam1=0, lparam2=0) for i, s in enumerate(spec, 1)]


def test_close_after_exitsession_faults_the_same_way_every_run(driver, capfd):
    dll = driver("use_after_release")
    session = calls((0, DRV_LOAD), (0, DRV_OPEN), (0, DRV_EXITSESSION), (0, DRV_CLOSE, 1), (0, DRV_USER, 1))
    outcomes = []
    for _ in range(5):
        results = run_dll(dll, session)
        assert [(r.seq, r.kind) for r in results] == [(1, "return"), (2, "return"), (3, "return"), (4, "fault")]
        fault = results[-1]
        outcomes.append((fault.code, fault.module, fault.offset))
    assert outcomes == [outcomes[0]] * 5
    code, module, offset = outcomes[0]
    assert code == EXCEPTION_ACCESS_VIOLATION
    assert module == dll.rsplit("/", 1)[-1]
    assert 0x1000 <= offset < 0x100000  # in the DLL's code, not its headers
    assert capfd.readouterr().err == ""  # no crash dump from Wine, no winedbg


def test_exitsession_spinning_while_another_thread_opens_is_a_hang(driver):
    """Thread 1 is inside DRV_OPEN when thread 0's DRV_EXITSESSION starts; the open leaves its
    pending count behind and DRV_EXITSESSION never returns.

    It spins on SwitchToThread, which under Wine gets little CPU time on a busy machine, so the
    watchdog's ticks find it as they find a call that waits for good (docs/replay.md): its hang
    comes no later than that of a call blocked for good with the same timeout, replayed beside
    it under the same load. No fixed wall time: beside 8 busy loops (load 9-13) both took 3-25 s,
    the spinning one at most 1.03 times the blocked one, while its CPU time alone (0.1 s in 3.5 s
    there, docs/replay.md) would have found it some 30 times later."""
    timeout_s = 1.0
    spinning = calls((0, DRV_LOAD), (1, DRV_OPEN), (0, DRV_EXITSESSION), (0, DRV_CLOSE, 0x100))
    blocked = calls((0, DRV_LOAD), (0, DRV_USER), (0, DRV_CLOSE))
    with ThreadPoolExecutor(2) as pool:
        spun = pool.submit(run_host, driver("exit_spin"), spinning, timeout_s=timeout_s)
        waited = pool.submit(run_host, driver("sleeper"), blocked, timeout_s=timeout_s)
        results, reference = spun.result().results, waited.result().results
    assert [(r.seq, r.kind) for r in results] == [(1, "return"), (2, "return"), (3, "hang")]
    assert results[1].result == 0  # the open gave up: it saw the exiting flag
    assert results[2].duration_ns >= timeout_s * 1e9  # never before its timeout
    assert [(r.seq, r.kind) for r in reference] == [(1, "return"), (2, "hang")]
    # both counted by the ticks, the same count: 2x leaves room for the load changing between them
    assert results[2].duration_ns <= 2 * reference[1].duration_ns, (results[2].duration_ns, reference[1].duration_ns)


def test_the_same_calls_on_one_thread_do_not_hang(driver):
    session = calls((0, DRV_LOAD), (0, DRV_OPEN), (0, DRV_EXITSESSION), (0, DRV_CLOSE, 0x100))
    results = run_dll(driver("exit_spin"), session, timeout_s=5.0)  # the open waits 1 s for its device
    assert [r.kind for r in results] == ["return"] * 4
    assert results[1].result == 0x100


def test_a_serial_hang_is_reported_at_its_call(driver):
    results = run_dll(driver("sleeper"), calls((0, DRV_LOAD), (0, DRV_USER), (0, DRV_CLOSE)), timeout_s=0.5)
    assert [(r.seq, r.kind) for r in results] == [(1, "return"), (2, "hang")]


def test_a_spinning_call_is_a_hang_no_earlier_than_its_timeout(driver):
    run = run_host(driver("spinner"), calls((0, DRV_LOAD), (0, DRV_USER), (0, DRV_CLOSE)), timeout_s=0.5)
    assert [(r.seq, r.kind) for r in run.results] == [(1, "return"), (2, "hang")]
    assert run.results[1].duration_ns >= 500_000_000


def test_a_call_waiting_in_steps_for_a_fifth_of_its_timeout_is_no_hang(driver):
    """200 x Sleep(1): 0.2 s on an idle machine, several times that in wall time beside busy
    processes; a step counts once however late the machine let it run (host_watchdog.c)."""
    session = [HostCall(seq=1, thread=0, driver_id=0, hdrvr=0x10, msg=DRV_USER + 1, lparam1=200, lparam2=0)]
    assert [(r.kind, r.result) for r in run_dll(driver("spinner"), session, timeout_s=1.0)] == [("return", 1)]


def test_each_thread_index_is_one_os_thread(driver):
    """thread_affinity's DRV_CLOSE returns 1 only on the thread that opened the instance."""
    dll = driver("thread_affinity")
    same = run_dll(dll, calls((0, DRV_OPEN), (1, DRV_USER), (0, DRV_USER), (0, DRV_CLOSE)))
    other = run_dll(dll, calls((0, DRV_OPEN), (1, DRV_USER), (0, DRV_USER), (1, DRV_CLOSE)),
                    stop_on_divergence=False)
    assert [r.result for r in same][3] == 1
    assert [r.result for r in other][3] == 0
    thread1, thread0 = same[1].result, same[2].result
    assert thread0 != thread1


def test_a_host_that_stops_answering_is_killed_and_reported_as_a_hang(driver, monkeypatch):
    """freezer suspends the host's watchdog too; the client notices the silence. DRV_LOAD's
    return may still sit in the frozen host's buffer, so the hang is at seq 2 or before."""
    monkeypatch.setattr("drvtape.dllhost.client.SILENCE_S", 2.0)
    started = time.monotonic()
    results = run_dll(driver("freezer"), calls((0, DRV_LOAD), (0, DRV_USER), (0, DRV_CLOSE)), timeout_s=30.0)
    assert results[-1].kind == "hang" and results[-1].seq <= 2
    assert [r.kind for r in results[:-1]] == ["return"] * (len(results) - 1)
    assert time.monotonic() - started < 10.0


def test_what_a_driver_writes_to_stdout_goes_to_stderr(driver, capfd):
    results = run_dll(driver("chatty"), calls((0, DRV_LOAD), (0, DRV_USER)))
    assert [r.result for r in results] == [DRV_LOAD, DRV_USER]
    err = capfd.readouterr().err
    assert "chatty-handle" in err and "chatty-printf" in err
