"""Where drvtape keeps what it builds and the Wine prefix: $XDG_CACHE_HOME/drvtape."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "drvtape"
