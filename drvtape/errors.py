"""Errors a user can cause. The CLI turns these into one line on stderr and exit code 2."""


class DrvtapeError(Exception):
    """Bad input or usage: a message a person can act on, never a traceback."""
