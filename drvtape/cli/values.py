"""Option values as people type them: integers in decimal or hex, times with units, threads
by name. Every error is a DrvtapeError: one line, exit 2."""

import os
import re
from datetime import datetime, timezone
from decimal import Decimal

from drvtape.errors import DrvtapeError
from drvtape.schema.rows import KIND_BY_NAME, Kind
from drvtape.schema.values import INT64_MAX, INT64_MIN, UINT64_MAX, as_signed64, fits_64_bits


def integer(text: str) -> int:
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    digits = body.lstrip("+-")
    try:
        return sign * (int(digits, 16) if digits.lower().startswith("0x") else int(digits, 10))
    except ValueError:
        raise DrvtapeError(f"{text!r} is not an integer (decimal or 0x hex)") from None


def bounded(text: str, maximum: int, what: str) -> int:
    """A positive integer no larger than `maximum`; a larger one is refused as too large."""
    value = integer(text)
    if value < 1:
        raise DrvtapeError(f"{what} {text!r} must be a positive integer")
    if value > maximum:
        raise DrvtapeError(f"{what} {_shortened(text)} is too large: at most {maximum}")
    return value


def _shortened(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"


_URL_START = re.compile(r"[\w+]+://")  # how SQLAlchemy's make_url finds a URL's dialect


def database(text: str) -> str:
    """--db, --to, --from: a SQLAlchemy URL, or a file path the file system can name."""
    if "://" in text:  # a URL to the store (drvtape.store.database_url): it parses the rest
        if not _URL_START.match(text):
            raise DrvtapeError(f"{_shortened(text)} is not a database URL (dialect://...) nor a file name")
        return text
    path = os.path.abspath(os.path.expanduser(text))
    folder = _existing_folder(os.path.dirname(path))
    name_max, path_max = _limit(folder, "PC_NAME_MAX", 255), _limit(folder, "PC_PATH_MAX", 4096)
    if any(len(os.fsencode(part)) > name_max for part in path.split(os.sep)):
        raise DrvtapeError(f"database file name {_shortened(text)} is too long: the file system allows "
                           f"{name_max} bytes a name")
    if len(os.fsencode(path)) >= path_max:  # PATH_MAX counts the terminating NUL
        raise DrvtapeError(f"database path {_shortened(text)} is too long: the system allows {path_max - 1} bytes")
    return text


def _existing_folder(folder: str) -> str:
    while not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    return folder


def _limit(folder: str, name: str, linux_default: int) -> int:
    """A pathconf limit of the file system of `folder`; Linux's <linux/limits.h> value if it has none."""
    try:
        return os.pathconf(folder, name)
    except OSError:
        return linux_default


def positive(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise DrvtapeError(f"{text!r} must be a positive integer")
    # A seq or a limit beyond the store's 64-bit integers selects the same as the largest one.
    return min(value, INT64_MAX)


def lresult(text: str) -> int:
    value = integer(text)
    if not fits_64_bits(value):
        raise DrvtapeError(f"result {text!r} does not fit in 64 bits")
    return as_signed64(value)  # LRESULT is signed: 0xFFFFFFFFFFFFFFFF means -1


def event_kind(text: str) -> Kind:
    kind = KIND_BY_NAME.get(text.strip().lower())
    if kind is None:
        raise DrvtapeError(f"unknown event kind {text!r}: use {', '.join(KIND_BY_NAME)}")
    return kind


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|ms|us|ns)", re.IGNORECASE)
_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def offset_ns(text: str, started_at: datetime) -> int:
    """A TIME option as nanoseconds from the session start: a duration, or an ISO-8601 UTC time.
    Clamped to the store's 64-bit integers: a time beyond them selects the same events."""
    return max(INT64_MIN, min(INT64_MAX, _unclamped_offset_ns(text, started_at)))


def _unclamped_offset_ns(text: str, started_at: datetime) -> int:
    body = text.strip()
    if body.isascii() and body.isdigit():  # not str.isdigit alone: it is true for '²', which int() refuses
        try:
            return int(body)
        except ValueError:  # more digits than int() converts: far past any 64-bit time
            return INT64_MAX
    match = _DURATION.fullmatch(body)
    if match:
        return int(Decimal(match[1]) * _NS_PER_UNIT[match[2].lower()])
    try:
        when = datetime.fromisoformat(body)
    except ValueError:
        raise DrvtapeError(
            f"{text!r} is not a time: give a duration from the session start (1.5s, 250ms, 40us, 100ns, "
            "or integer ns) or an ISO-8601 UTC time"
        ) from None
    delta = when.replace(tzinfo=when.tzinfo or timezone.utc) - started_at
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def thread_names(threads: list[int]) -> dict[int, str]:
    """T0, T1, ... for a session's OS thread ids, given in order of first appearance."""
    return {thread: f"T{n}" for n, thread in enumerate(threads)}


def thread_id(text: str, names: dict[int, str]) -> int:
    by_name = {name.lower(): thread for thread, name in names.items()}
    body = text.strip().lower()
    if body.startswith("t"):
        if body not in by_name:
            raise DrvtapeError(f"no thread {text!r} in this session (it has {', '.join(names.values()) or 'none'})")
        return by_name[body]
    value = integer(text)
    if not 0 <= value <= UINT64_MAX:
        raise DrvtapeError(f"thread id {text!r} is not an unsigned 64-bit value")
    return value
