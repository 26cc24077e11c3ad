"""Run a driver DLL in a fresh drvhost process and collect one result per issued call.

The host is built for the DLL's architecture (its PE machine field: x64 or x86), since a
process loads only DLLs of its own (LoadLibrary's error 193 otherwise)."""
from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, Arch
from drvtape.dllhost.build import build_drvhost, drvhost_obtainable
from drvtape.dllhost.pe import pe_arch
from drvtape.errors import DrvtapeError
from drvtape.formats import host_protocol as p
from drvtape.formats.host_calls import RETURNED, HostCall, HostResult
from drvtape.present.text import exception_code, fault_place
from drvtape.schema.outcome import OutcomeKind

STARTUP_S = 60.0  # hello -> READY: Wine may be starting its wineserver or updating the prefix
SILENCE_S = 5.0  # the host writes at least every second (HEARTBEAT); this much silence means it is wedged
EXIT_S = 5.0


@dataclass
class HostRun:
    results: list[HostResult]
    replay_s: float  # READY (DLL loaded) to the last record: host start-up excluded, and the batch's
    # encoding too as far as it ran while the host started (when it ran longer, the host waited for it)
    issued: int | None  # calls issued, as DONE said; None when the host ended otherwise


def dll_arch(path: str) -> Arch:
    """The architecture of the driver DLL at path (its host's), or DrvtapeError: no such file,
    not a PE file, or a machine drvtape does not run."""
    if not os.path.isfile(path):
        raise DrvtapeError(f"no such driver DLL: {path}")
    return pe_arch(Path(path))


def host_available(arch: Arch = X64) -> None:
    """DrvtapeError naming the Debian package when the compiler (unless drvhost ships built) or
    (off Windows) Wine for arch is missing."""
    drvhost_obtainable(arch)
    if os.name != "nt":
        wine.wine_binary(arch)


def run_dll(path: str, calls: Sequence[HostCall], *, timeout_s: float = 5.0,
            stop_on_divergence: bool = True, only_differences: bool = False) -> list[HostResult]:
    """Start a fresh drvhost for the DLL at path, run the calls, return one HostResult per call
    issued, in seq order. Stops after a fault or hang (the host is gone), and, with
    stop_on_divergence, after a call whose result differs from its expect (DRV_OPEN
    compares zero vs nonzero only). Calls still in flight at a fault or hang get no result.
    With only_differences, a call whose result matched its expect gets none either (run_host)."""
    return run_host(path, calls, timeout_s=timeout_s, stop_on_divergence=stop_on_divergence,
                    only_differences=only_differences).results


@dataclass(frozen=True)
class HostBatch:
    """Calls encoded once, in a file each drvhost run reads: `replay --repeat N` encodes its
    session once for N hosts (host_batch)."""

    dll: str
    calls: Sequence[HostCall]
    file: Path
    size: int


@contextmanager
def host_batch(path: str, calls: Sequence[HostCall]) -> Iterator[HostBatch]:
    """The calls for the DLL at path, encoded into a file that lives as long as this context."""
    with _batch_file() as file:
        yield HostBatch(path, calls, file, len(_write_batch(file, path, calls, _dense_threads(calls))))


def run_batch(batch: HostBatch, **options) -> HostRun:
    """run_host's run of a batch already written (host_batch)."""
    return _run(batch.dll, batch.calls, batch.file, lambda: p.encode_go(batch.size), **options)


def run_host(path: str, calls: Sequence[HostCall], **options) -> HostRun:
    """run_dll's run, timed. With only_differences the host compares each result with its
    expect itself and reports only the calls without one, those that diverge (DRV_OPEN:
    zero vs nonzero), those that read memory back and those before a recorded hang
    (host_call.c: return_is_sent), so nothing is decoded for a call that
    matched. `end` says how the host ends after the last call, env_extra is added to its
    environment (the tap's configuration, when recording). The batch is encoded while Wine
    starts the host and it loads the DLL."""
    threads = _dense_threads(calls)  # refused before a host is started
    with _batch_file() as file:
        return _run(path, calls, file, lambda: p.encode_go(len(_write_batch(file, path, calls, threads))), **options)


@contextmanager
def _batch_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="drvtape-host-") as folder:
        yield Path(folder) / "batch.bin"


def _dense_threads(calls: Sequence[HostCall]) -> list[int]:
    """Each call's host thread: its recorded thread's rank among the session's, or DrvtapeError
    when there are more than a host runs."""
    dense = {t: i for i, t in enumerate(sorted({c.thread for c in calls}))}
    if len(dense) > p.MAX_HOST_THREADS:
        raise DrvtapeError(f"{len(dense)} threads: drvhost runs at most {p.MAX_HOST_THREADS} "
                           "(--threads serial runs every call on one)")
    return [dense[c.thread] for c in calls]


def _write_batch(file: Path, path: str, calls: Sequence[HostCall], threads: list[int]) -> bytes:
    """The calls' batch for the DLL at path (its arch's pointer size), written to file and returned."""
    data = p.encode_batch(calls, threads, dll_arch(path).pointer_size)
    file.write_bytes(data)
    return data


def _run(path: str, calls: Sequence[HostCall], batch_file: Path, write_batch: Callable[[], bytes], *,
         timeout_s: float = 5.0, stop_on_divergence: bool = True, only_differences: bool = False,
         end: p.HostEnd = p.HostEnd.TERMINATE, env_extra: dict[str, str] | None = None) -> HostRun:
    """One drvhost run of the batch in batch_file; write_batch, called once the host is
    started, makes sure the file is written whole and returns the go that says so."""
    argv, env = wine.command(build_drvhost(dll_arch(path)))
    if env_extra:
        env = {**(env if env is not None else os.environ), **env_extra}
    hello = p.encode_hello(wine.windows_path(path), wine.windows_path(str(batch_file)), timeout_s,
                           stop_on_divergence, only_differences, end)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        return _HostConversation(proc, calls).run(hello, write_batch)
    except BaseException:
        proc.kill()  # bad input found while encoding, or the host failed: nothing more to wait for
        raise
    finally:
        _end(proc)  # before the batch file goes: the host may still hold it open


def _end(proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=EXIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except OSError:
            pass


class _HostConversation:
    """One drvhost process: its output read off a thread, the batch written, the results collected."""

    def __init__(self, proc: subprocess.Popen, calls: Sequence[HostCall]):
        self.proc = proc
        self.calls = calls
        self.chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()  # (perf_counter on arrival, bytes)
        self.arrived = 0.0  # when the chunk holding the last record handed out arrived
        self.reader = p.HostRecordReader()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while chunk := out.read1(1 << 20):
            self.chunks.put((time.perf_counter(), chunk))
        self.chunks.put((time.perf_counter(), b""))

    def _send(self, data: bytes, *, last: bool = False) -> None:
        try:
            self.proc.stdin.write(data)
            if last:
                self.proc.stdin.close()
            else:
                self.proc.stdin.flush()
        except OSError:
            pass  # the host is gone; what it said before going tells why

    def _records(self, first_wait_s: float):
        wait = first_wait_s
        while True:
            try:
                self.arrived, chunk = self.chunks.get(timeout=wait)
            except queue.Empty:
                yield None  # silence
                return
            if not chunk:
                return
            yield from self.reader.feed(chunk)
            wait = SILENCE_S

    def run(self, hello: bytes, write_batch: Callable[[], bytes]) -> HostRun:
        """write_batch writes the batch file and returns the go that tells the host to read it."""
        self._send(hello)
        self._send(write_batch(), last=True)  # read after READY
        records = self._records(STARTUP_S)
        first = next((r for r in records if r is None or r.kind != p.HEARTBEAT), None)  # slow DllMain
        if first is None or first.kind != p.READY:
            self._fail(first, "before loading the DLL")
        started = self.arrived
        results: list[HostResult] = []
        calls = self.calls
        memory: dict[int, list[tuple[int, int, bytes]]] = {}  # call index -> its MEMORY records so far
        issued = None
        for rec in records:
            if rec is None:
                results.append(self._silent(results))
                break
            if rec.kind == p.RETURN:
                results.append(HostResult(calls[rec.index].seq, RETURNED, result=rec.a, duration_ns=rec.b,
                                          memory=tuple(memory.pop(rec.index, ()))))
            elif rec.kind == p.MEMORY:
                memory.setdefault(rec.index, []).append((rec.a, rec.b, rec.tail))
            elif rec.kind == p.DONE:
                issued = rec.index
                break
            elif rec.kind in (p.FAULT, p.HANG) and rec.index < len(calls):
                results.append(self._stop_result(rec))
                break
            elif rec.kind != p.HEARTBEAT:
                self._fail(rec, "while running the calls")
        else:
            self._fail(None, "while running the calls")
        replay_s = time.perf_counter() - started
        results.sort(key=lambda r: r.seq)
        return HostRun(results, replay_s, issued)

    def _stop_result(self, rec: p.HostRecord) -> HostResult:
        seq = self.calls[rec.index].seq
        if rec.kind == p.HANG:
            return HostResult(seq, OutcomeKind.HANG, duration_ns=rec.a)
        return HostResult(seq, OutcomeKind.FAULT, code=rec.a & 0xFFFFFFFF, module=rec.tail or None, offset=rec.b)

    def _silent(self, results: list[HostResult]) -> HostResult:
        """The host's own watchdog went quiet too (the driver stopped every thread): kill it and
        report a hang at the oldest call without a result. Returns the host had buffered are
        lost with it (and with only_differences matching ones are never sent), so this can be
        a call earlier than the one that hung, unless the recording hung in that call: the
        host then sends every earlier result, before issuing it (HostCall.recorded_hang)."""
        self.proc.kill()
        answered = {r.seq for r in results}
        pending = next((c for c in self.calls if c.seq not in answered), None)
        if pending is None:
            self._fail(None, "after the last call")
        return HostResult(pending.seq, OutcomeKind.HANG)

    def _fail(self, rec: p.HostRecord | None, when: str) -> None:
        if rec is not None and rec.kind == p.ERROR:
            raise DrvtapeError(rec.tail)
        if rec is not None and rec.kind == p.FAULT:
            raise DrvtapeError(f"drvhost crashed {when}: exception {exception_code(rec.a & 0xFFFFFFFF)} at "
                               f"{fault_place(rec.tail or None, rec.b)}")
        silent = self.proc.poll() is None
        self.proc.kill()
        code = self.proc.wait()
        if rec is not None:
            what = f"sent an unexpected record (kind {rec.kind})"
        else:
            what = "stopped answering" if silent else f"exited with code {code} without a final record"
        raise DrvtapeError(f"drvhost {what} {when}")
