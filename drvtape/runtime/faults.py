"""How a driver's failure reaches drvtape: a fault with a Windows exception code, or a call
that never returns."""

from drvtape.present.text import exception_code

EXCEPTION_ACCESS_VIOLATION = 0xC0000005
# A Python exception escaping a py: DriverProc. Bit 29 (0x20000000) marks a customer-defined
# NTSTATUS, so this cannot collide with a system exception code.
PYTHON_EXCEPTION = 0xE0505900


class DriverFault(Exception):
    """A driver crashed: raised by simulated drivers, reported by the DLL host."""

    def __init__(self, code: int, module: str | None = None, offset: int | None = None,
                 description: str | None = None):
        super().__init__(description or f"exception {exception_code(code)}")
        self.code = code
        self.module = module
        self.offset = offset
        self.description = description


class Abandoned(BaseException):
    """Unwinds a call that can never return (a detected hang, or the process already crashed).

    A BaseException so that driver code catching Exception cannot swallow it, and so the hook
    records no return for the call: that missing return is the evidence of the hang.
    """


def fault_of(exc: BaseException) -> DriverFault:
    """The fault to record for an exception raised by a DriverProc."""
    if isinstance(exc, DriverFault):
        return exc
    return DriverFault(PYTHON_EXCEPTION, module=type(exc).__module__, offset=None,
                       description=f"{type(exc).__name__}: {exc}")
