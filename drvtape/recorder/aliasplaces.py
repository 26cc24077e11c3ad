"""Where the system reads a driver alias (`vidc.mrle=msrle32.dll`), and reading and writing it there.

On Windows: the Drivers32 registry key
(HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Drivers32) in its 64-bit view and, for
32-bit applications, its 32-bit view (Wow6432Node); for MCI device types
(`waveaudio=mciwave.dll`) the MCI32 key beside it. Under Wine 8.0, also the [drivers32]
section of system.ini in the prefix's Windows folder (and [mci] for MCI drivers): that is
where a new prefix keeps every alias (its Drivers32 key is empty). Wine's winmm looks an
alias up in the registry first and in system.ini after (OpenDriver), while msacm32's driver
list and msvfw32's ICInfo enumerate both places, so an alias in both is listed twice
(checked by experiment: tests/native/test_tap_install_places.py). Under Debian's wine64 8.0
(a 64-bit-only prefix, no WoW64) `/reg:32` finds no Drivers32 key, so only the 64-bit view
is read there. A 32-bit program reads the key its own `reg` sees: in a 32-bit
(WINEARCH=win32) prefix the one key, in a WoW64 prefix (wine32 installed) the
Wow6432Node\\...\\Drivers32 key (checked with Wine 8.0: a value added by the 32-bit `wine reg`
is listed by `wine64 reg query /reg:32` and not by `wine64 reg query`). So the registry is
reached with the `reg` of the program's arch, in the prefix of that arch; system.ini is one
file that both read.
A Wine prefix fills the MCI32 key too (WaveAudio, Sequencer, AVIVideo,
CDAudio, MPEGVideo), but Wine's winmm does not read it: it looks an MCI device type up under
a key named MCI (absent) and then in system.ini's [mci] (dlls/winmm/mci.c:
MCI_OpenMciDriver; a tap installed on the [mci] line records mciwave's messages:
tests/native/test_tap_mci.py). install changes the MCI32 value as well, as Windows reads it.

The registry is reached with winreg on Windows and with `wine reg query/add/delete` in the
Wine prefix elsewhere: `reg query` prints `    NAME    TYPE    DATA` lines (four spaces
apart, CRLF) and exits 1 when the value does not exist; the registry lives in the
wineserver and is shared by every process of the prefix at once (saved to system.reg later).
system.ini is edited as bytes: only the alias's line changes, the rest (line ends, comments,
other sections) is written back as it was, through a temporary file and a rename.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.arch import X64, Arch
from drvtape.errors import DrvtapeError

DRIVERS32 = r"Software\Microsoft\Windows NT\CurrentVersion\Drivers32"
DRIVERS32_FULL = "HKLM\\" + DRIVERS32
MCI32 = r"Software\Microsoft\Windows NT\CurrentVersion\MCI32"
MCI32_FULL = "HKLM\\" + MCI32
INI_SECTIONS = ("drivers32", "mci")


@dataclass(frozen=True)
class Entry:
    """What a place holds for an alias: a registry value (type REG_SZ, REG_EXPAND_SZ) or a
    system.ini line (type INI, `line` the whole line as it was, without its line end)."""
    type: str
    data: str
    line: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, doc: dict | None) -> "Entry | None":
        return None if doc is None else cls(doc["type"], doc["data"], doc.get("line"))


# ---- the registry ------------------------------------------------------------------------

def _prefix(arch: Arch = X64) -> Path:
    """The prefix in use for arch's programs: a user's existing one (a system.reg, no drvtape
    ready mark) as it is; drvtape's own through ensure_prefix (created on first use, its
    wineserver started)."""
    chosen = wine.prefix_dir(arch)
    if (chosen / "system.reg").is_file() and not (chosen / ".drvtape-ready").exists():
        return chosen
    return wine.ensure_prefix(arch)


def key_name(key: str) -> str:
    """MCI32 of Software\\...\\CurrentVersion\\MCI32."""
    return key.rsplit("\\", 1)[-1]


class RegistryPlace:
    """A Drivers32 (or MCI32) key; subclasses get, set and delete values."""
    name = "registry"
    arch: str | None = None  # whose programs read it: "x64", "x86", None for both
    key = DRIVERS32

    def put(self, alias: str, data: str, was: Entry | None) -> Entry:
        value = Entry("REG_SZ", data)
        self.set(alias, value)
        return value

    def restore(self, alias: str, original: Entry | None, installed: Entry) -> None:
        if original is None:
            self.delete(alias)
        else:
            self.set(alias, original)


class WineRegistry(RegistryPlace):
    """The Drivers32 key arch's programs read, through the `reg` of that arch."""

    def __init__(self, arch: Arch = X64, key: str = DRIVERS32):
        self.wine_arch = arch
        self.arch = arch.name
        self.key = key
        if key != DRIVERS32:
            self.name = f"registry ({key_name(key)})"

    @property
    def full(self) -> str:
        return "HKLM\\" + self.key

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        env = wine.wine_env(_prefix(self.wine_arch))
        try:
            return subprocess.run([wine.wine_binary(self.wine_arch), "reg", *args], env=env, capture_output=True,
                                  text=True, errors="replace", timeout=120, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise DrvtapeError(f"wine reg {args[0]} timed out") from e

    def get(self, alias: str) -> Entry | None:
        proc = self._run("query", self.full, "/v", alias)
        if proc.returncode != 0:
            if "unable to find" in (proc.stdout + proc.stderr).lower():
                return None
            raise DrvtapeError(f"wine reg query failed: {(proc.stderr or proc.stdout).strip()[-200:]}")
        head = f"    {alias}    ".lower()
        for line in proc.stdout.splitlines():
            line = line.rstrip("\r\n")
            if line.lower().startswith(head):
                kind, _, data = line[len(head):].partition("    ")
                return Entry(kind.strip(), data)
        return None

    def set(self, alias: str, value: Entry) -> None:
        proc = self._run("add", self.full, "/v", alias, "/t", value.type, "/d", value.data, "/f")
        if proc.returncode != 0:
            raise DrvtapeError(f"wine reg add failed: {(proc.stderr or proc.stdout).strip()[-200:]}")

    def delete(self, alias: str) -> None:
        proc = self._run("delete", self.full, "/v", alias, "/f")
        if proc.returncode != 0 and self.get(alias) is not None:
            raise DrvtapeError(f"wine reg delete failed: {(proc.stderr or proc.stdout).strip()[-200:]}")


class WinRegistry(RegistryPlace):  # pragma: no cover - Windows only
    """One view of the Drivers32 key: KEY_WOW64_64KEY (what 64-bit applications read) or
    KEY_WOW64_32KEY (32-bit applications, served by the x86 tap)."""

    def __init__(self, bits: int, key: str = DRIVERS32):
        self.bits, self.key = bits, key
        where = "" if key == DRIVERS32 else key_name(key) + " "
        self.name = f"registry ({where}{bits}-bit view)"
        self.arch = "x64" if bits == 64 else "x86"

    def _key(self, write: bool):
        import winreg  # Windows only
        view = winreg.KEY_WOW64_64KEY if self.bits == 64 else winreg.KEY_WOW64_32KEY
        access = (winreg.KEY_READ | winreg.KEY_SET_VALUE if write else winreg.KEY_READ) | view
        try:
            if write:
                return winreg.CreateKeyEx(winreg.HKEY_LOCAL_MACHINE, self.key, 0, access)
            return winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, self.key, 0, access)
        except PermissionError as e:
            raise DrvtapeError(f"no permission to change HKLM\\{self.key}: run as administrator") from e

    def get(self, alias: str) -> Entry | None:
        import winreg  # Windows only
        try:
            with self._key(False) as key:
                data, kind = winreg.QueryValueEx(key, alias)
        except FileNotFoundError:
            return None
        names = {winreg.REG_SZ: "REG_SZ", winreg.REG_EXPAND_SZ: "REG_EXPAND_SZ"}
        if kind not in names:
            raise DrvtapeError(f"Drivers32 value {alias} has registry type {kind}, not a string")
        return Entry(names[kind], data)

    def set(self, alias: str, value: Entry) -> None:
        import winreg  # Windows only
        kind = {"REG_SZ": winreg.REG_SZ, "REG_EXPAND_SZ": winreg.REG_EXPAND_SZ}[value.type]
        try:
            with self._key(True) as key:
                winreg.SetValueEx(key, alias, 0, kind, value.data)
        except PermissionError as e:
            raise DrvtapeError(f"no permission to change HKLM\\{self.key}: run as administrator") from e

    def delete(self, alias: str) -> None:
        import winreg  # Windows only
        try:
            with self._key(True) as key:
                winreg.DeleteValue(key, alias)
        except FileNotFoundError:
            pass
        except PermissionError as e:
            raise DrvtapeError(f"no permission to change HKLM\\{self.key}: run as administrator") from e


# ---- system.ini --------------------------------------------------------------------------

def _key_of(line: str) -> str | None:
    """The key of a `key=value` line, None for comments, blank lines and section heads."""
    stripped = line.strip()
    if not stripped or stripped[0] in ";[" or "=" not in stripped:
        return None
    return stripped.split("=", 1)[0].strip()


def _section_of(line: str) -> str | None:
    stripped = line.strip()
    if stripped.startswith("[") and "]" in stripped:
        return stripped[1:stripped.index("]")].strip().lower()
    return None


class SystemIni:
    """The [drivers32] (or [mci]) line of an alias in Wine's system.ini. The file is read as
    latin-1, so that every byte goes back as it came."""
    name = "system.ini"
    arch = None  # one file, read by 32- and 64-bit programs alike

    def __init__(self, path: Path):
        self.path = path

    def _lines(self) -> list[str]:
        try:
            return self.path.read_bytes().decode("latin-1").splitlines(keepends=True)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise DrvtapeError(f"cannot read {self.path}: {e}") from e

    def _find(self, lines: list[str], alias: str) -> int | None:
        section = None
        for i, line in enumerate(lines):
            section = _section_of(line) or section
            if section in INI_SECTIONS and (_key_of(line) or "").lower() == alias.lower():
                return i
        return None

    def get(self, alias: str) -> Entry | None:
        lines = self._lines()
        i = self._find(lines, alias)
        if i is None:
            return None
        line = lines[i].rstrip("\r\n")
        return Entry("INI", line.split("=", 1)[1].strip(), line)

    def _replace(self, alias: str, new_line: str) -> None:
        lines = self._lines()
        i = self._find(lines, alias)
        if i is None:
            raise DrvtapeError(f"{alias} is no longer in {self.path}")
        ending = lines[i][len(lines[i].rstrip("\r\n")):]
        lines[i] = new_line + ending
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".system.ini.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write("".join(lines).encode("latin-1"))
            os.chmod(tmp, self.path.stat().st_mode & 0o7777)
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def put(self, alias: str, data: str, was: Entry | None) -> Entry:
        if not data.isascii():
            raise DrvtapeError(f"the tap's path is not ASCII ({data}), which system.ini cannot hold: use --dir")
        key = was.line.split("=", 1)[0]  # the key as it was spelt
        self._replace(alias, f"{key}={data}")
        return Entry("INI", data, f"{key}={data}")

    def restore(self, alias: str, original: Entry | None, installed: Entry) -> None:
        self._replace(alias, original.line)


def registry(arch: Arch = X64) -> RegistryPlace:
    """The Drivers32 key arch's applications read, where a new alias goes."""
    if os.name == "nt":  # pragma: no cover - Windows only
        return WinRegistry(64 if arch is X64 else 32)
    return WineRegistry(arch)


def places(arch: Arch = X64) -> list:
    """Every place the system reads an alias from, registry(arch) first: on Windows both
    registry views (the other arch's shown by status, left as it is by install); under Wine
    those of arch's prefix."""
    if os.name == "nt":  # pragma: no cover - Windows only
        return [registry(arch), WinRegistry(32 if arch is X64 else 64)]
    return [registry(arch), SystemIni(_prefix(arch) / "drive_c" / "windows" / "system.ini")]


def mci_places(arch: Arch = X64) -> list:
    """The MCI32 key, where Windows looks MCI device types (waveaudio, sequencer) up."""
    if os.name == "nt":  # pragma: no cover - Windows only
        return [WinRegistry(64, MCI32), WinRegistry(32, MCI32)]
    return [WineRegistry(arch, MCI32)]


def alias_places(arch: Arch = X64) -> list:
    """Every place the system reads an alias from: places(arch), then mci_places(arch)."""
    return [*places(arch), *mci_places(arch)]
