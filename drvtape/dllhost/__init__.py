"""dll:PATH replay: run a real driver DLL in a separate drvhost process (Wine on Linux)."""
from .client import host_available, run_dll
from .model import HostCall, HostResult

__all__ = ["HostCall", "HostResult", "host_available", "run_dll"]
