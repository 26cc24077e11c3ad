"""Whether a process on this machine is still running."""

import ctypes
import os

# the largest process id: a DWORD on Windows, a signed 32-bit pid_t on POSIX (os.kill
# raises OverflowError past it); a header naming a larger one names no process here
MAX_PID = 0xFFFF_FFFF if os.name == "nt" else 0x7FFF_FFFF


def process_alive(pid: int) -> bool:
    if not 0 < pid <= MAX_PID:
        return False
    if os.name == "nt":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def _windows_process_alive(pid: int) -> bool:
    process_query_limited_information, still_active = 0x1000, 259
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    access_denied = 5
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return ctypes.get_last_error() == access_denied  # it exists, we may not look at it
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
