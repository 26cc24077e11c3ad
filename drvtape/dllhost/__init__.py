"""dll:PATH replay: run a real driver DLL in a separate drvhost process (Wine on Linux)."""
from drvtape.dllhost.client import host_available, run_dll
from drvtape.formats.host_calls import HostCall, HostResult

__all__ = ["HostCall", "HostResult", "host_available", "run_dll"]
