"""`drvtape tap install/uninstall/status`: point a Drivers32 alias at drvtap.dll and back.

A Drivers32 alias (HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Drivers32, e.g.
`vidc.mrle`) names the DLL winmm/msvfw32/msacm load for it. `install` copies drvtap.dll into
a folder of its own for that alias (a cached build path may change; one drvtap.dll serves one
real driver, so each alias gets its copy), writes drvtap.cfg beside it (line 1 the real
driver, line 2 the tape when one is given; otherwise the tap writes
`<real driver name>.<pid>.drvtape` in the application's current folder), saves what the
alias held (its type and data, or that it did not exist) in install.json in that folder,
and points the alias at the copy. `uninstall` writes back exactly what was saved, or
deletes the alias when it did not exist before.

On Windows the registry is reached with winreg, in the 64-bit view (drvtap is x86_64, and a
64-bit application reads the 64-bit view; a 32-bit Python is redirected to Wow6432Node
otherwise). Elsewhere `wine reg query/add/delete` runs in drvtape's private Wine prefix
(drvtape.dllhost.wine). What is Wine's: under Debian's wine64 8.0 (a 64-bit-only prefix,
no WoW64) the key exists in the 64-bit view and `/reg:32` finds no such key, so only the
64-bit view matters there; `reg query` prints `    NAME    TYPE    DATA` lines (four spaces
apart, CRLF) and exits 1 when the value does not exist; the registry lives in the
wineserver and is shared by every process of the prefix at once (saved to system.reg later).
Wine splits a Drivers32 value at its first space (the rest is passed to DRV_OPEN as
lParam1), so the tap's path must have no space in it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from drvtape.errors import DrvtapeError

DRIVERS32 = r"Software\Microsoft\Windows NT\CurrentVersion\Drivers32"
DRIVERS32_FULL = "HKLM\\" + DRIVERS32
STATE_FILE = "install.json"
TAP_NAME = "drvtap.dll"
CFG_NAME = "drvtap.cfg"


@dataclass(frozen=True)
class RegValue:
    type: str  # "REG_SZ", "REG_EXPAND_SZ", ...
    data: str


# ---- the registry ------------------------------------------------------------------------

class _WineRegistry:
    def _run(self, *args: str) -> subprocess.CompletedProcess:
        from drvtape.dllhost import wine
        env = wine.wine_env(wine.ensure_prefix())
        try:
            return subprocess.run([wine.wine_binary(), "reg", *args], env=env, capture_output=True, text=True,
                                  errors="replace", timeout=120, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise DrvtapeError(f"wine reg {args[0]} timed out") from e

    def get(self, name: str) -> RegValue | None:
        proc = self._run("query", DRIVERS32_FULL, "/v", name)
        if proc.returncode != 0:
            if "unable to find" in (proc.stdout + proc.stderr).lower():
                return None
            raise DrvtapeError(f"wine reg query failed: {(proc.stderr or proc.stdout).strip()[-200:]}")
        head = f"    {name}    ".lower()
        for line in proc.stdout.splitlines():
            line = line.rstrip("\r\n")
            if line.lower().startswith(head):
                kind, _, data = line[len(head):].partition("    ")
                return RegValue(kind.strip(), data)
        return None

    def set(self, name: str, value: RegValue) -> None:
        proc = self._run("add", DRIVERS32_FULL, "/v", name, "/t", value.type, "/d", value.data, "/f")
        if proc.returncode != 0:
            raise DrvtapeError(f"wine reg add failed: {(proc.stderr or proc.stdout).strip()[-200:]}")

    def delete(self, name: str) -> None:
        proc = self._run("delete", DRIVERS32_FULL, "/v", name, "/f")
        if proc.returncode != 0 and self.get(name) is not None:
            raise DrvtapeError(f"wine reg delete failed: {(proc.stderr or proc.stdout).strip()[-200:]}")


class _WinRegistry:  # pragma: no cover - Windows only
    def _key(self, write: bool):
        import winreg
        access = (winreg.KEY_READ | winreg.KEY_SET_VALUE if write else winreg.KEY_READ) | winreg.KEY_WOW64_64KEY
        try:
            if write:
                return winreg.CreateKeyEx(winreg.HKEY_LOCAL_MACHINE, DRIVERS32, 0, access)
            return winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, DRIVERS32, 0, access)
        except PermissionError as e:
            raise DrvtapeError(f"no permission to change HKLM\\{DRIVERS32}: run as administrator") from e

    def get(self, name: str) -> RegValue | None:
        import winreg
        try:
            with self._key(False) as key:
                data, kind = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        names = {winreg.REG_SZ: "REG_SZ", winreg.REG_EXPAND_SZ: "REG_EXPAND_SZ"}
        if kind not in names:
            raise DrvtapeError(f"Drivers32 value {name} has registry type {kind}, not a string")
        return RegValue(names[kind], data)

    def set(self, name: str, value: RegValue) -> None:
        import winreg
        kind = {"REG_SZ": winreg.REG_SZ, "REG_EXPAND_SZ": winreg.REG_EXPAND_SZ}[value.type]
        try:
            with self._key(True) as key:
                winreg.SetValueEx(key, name, 0, kind, value.data)
        except PermissionError as e:
            raise DrvtapeError(f"no permission to change HKLM\\{DRIVERS32}: run as administrator") from e

    def delete(self, name: str) -> None:
        import winreg
        try:
            with self._key(True) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            pass
        except PermissionError as e:
            raise DrvtapeError(f"no permission to change HKLM\\{DRIVERS32}: run as administrator") from e


def registry():
    return _WinRegistry() if os.name == "nt" else _WineRegistry()


# ---- where installs live -----------------------------------------------------------------

def installs_root() -> Path:
    """Beside the Wine prefix (each prefix has its own registry, so its own installs); on
    Windows in drvtape's cache folder."""
    if os.name == "nt":
        from drvtape.dllhost.cache import cache_root
        return cache_root() / "taps"
    from drvtape.dllhost import wine
    prefix = wine.prefix_dir()
    return prefix.parent / f"{prefix.name}-taps"


def _folder_name(alias: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", alias.lower())


def _windows_path(path: Path) -> str:
    from drvtape.dllhost import wine
    return wine.windows_path(str(path))


def _check_alias(alias: str) -> None:
    if not alias or alias.strip() != alias or "\\" in alias or any(ord(c) < 32 for c in alias):
        raise DrvtapeError(f"not a Drivers32 alias: {alias!r}")


def _points_at_a_tap(value: RegValue | None) -> bool:
    if value is None:
        return False
    first = value.data.strip().split(" ", 1)[0]
    return first.replace("/", "\\").rsplit("\\", 1)[-1].lower() == TAP_NAME


def _read_state(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise DrvtapeError(f"unreadable install record {folder / STATE_FILE}: {e}") from e


def status(alias: str) -> dict:
    _check_alias(alias)
    folder = installs_root() / _folder_name(alias)
    state = _read_state(folder)
    current = registry().get(alias)
    return {"alias": alias, "installed": state is not None,
            "value": None if current is None else {"type": current.type, "data": current.data},
            "points_at_tap": _points_at_a_tap(current),
            "original": None if state is None else state["original"],
            "real": None if state is None else state["real"], "tape": None if state is None else state["tape"],
            "tap": None if state is None else state["tap"],
            "intact": state is not None and current is not None and current.data == state["installed"]["data"]}


def install(alias: str, real: str, tap: str | None = None, tape: str | None = None,
            folder: str | None = None) -> dict:
    """Point ALIAS at a copy of drvtap.dll configured to forward to REAL; returns what was done."""
    _check_alias(alias)
    real_path = Path(real).resolve()
    if not real_path.is_file():
        raise DrvtapeError(f"real driver not found: {real}")
    where = Path(folder).resolve() if folder else installs_root() / _folder_name(alias)
    state_folder = installs_root() / _folder_name(alias)
    reg = registry()
    current = reg.get(alias)
    state = _read_state(state_folder)
    tape_path = str(Path(tape).resolve()) if tape else None

    if state is not None:
        same = (current is not None and current.data == state["installed"]["data"]
                and state["real"] == str(real_path) and state["tape"] == tape_path
                and (tap is None or state["source"] == str(Path(tap).resolve())))
        if same:
            return {**state, "action": "already installed"}
        raise DrvtapeError(f"alias {alias} is already installed (forwarding to {state['real']}): "
                           f"run `drvtape tap uninstall --alias {alias}` first")
    if _points_at_a_tap(current):
        raise DrvtapeError(f"alias {alias} already points at a drvtap ({current.data}) that drvtape did not "
                           f"install here: refusing, its original value would be lost")

    if tap is None:
        from drvtape.dllhost.build import build_drvtap
        source = build_drvtap()
    else:
        source = Path(tap).resolve()
        if not source.is_file():
            raise DrvtapeError(f"tap not found: {tap}")
    where.mkdir(parents=True, exist_ok=True)
    state_folder.mkdir(parents=True, exist_ok=True)
    dest = where / TAP_NAME
    if source != dest:
        shutil.copyfile(source, dest)
    win_tap = _windows_path(dest)
    if " " in win_tap:
        raise DrvtapeError(f"the tap's path has a space ({win_tap}), which ends a Drivers32 value: use --dir")
    lines = [_windows_path(real_path)] + ([_windows_path(Path(tape_path))] if tape_path else [])
    (where / CFG_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")

    # the arguments after the original DLL's name (passed to DRV_OPEN as lParam1) are kept
    # (verbatim: Wine hands DRV_OPEN the text after the first space as it is)
    args = current.data.split(" ", 1)[1] if current is not None and " " in current.data else None
    installed = RegValue("REG_SZ", win_tap + (" " + args if args is not None else ""))
    state = {"alias": alias, "original": None if current is None else {"type": current.type, "data": current.data},
             "installed": {"type": installed.type, "data": installed.data}, "real": str(real_path),
             "tape": tape_path, "tap": str(dest), "source": str(source), "cfg": str(where / CFG_NAME)}
    # the record first: if setting the value fails half-way, uninstall can still restore
    tmp = state_folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(tmp, state_folder / STATE_FILE)
    try:
        reg.set(alias, installed)
    except DrvtapeError:
        (state_folder / STATE_FILE).unlink(missing_ok=True)
        raise
    return {**state, "action": "installed"}


def uninstall(alias: str, force: bool = False) -> dict:
    """Put back exactly what ALIAS held before `install` (or delete it if it did not exist)."""
    _check_alias(alias)
    state_folder = installs_root() / _folder_name(alias)
    state = _read_state(state_folder)
    if state is None:
        raise DrvtapeError(f"alias {alias} is not installed (no record in {state_folder})")
    reg = registry()
    current = reg.get(alias)
    if not force and (current is None or current.data != state["installed"]["data"]):
        now = "missing" if current is None else repr(current.data)
        raise DrvtapeError(f"alias {alias} was changed since install (now {now}): "
                           f"use --force to restore the original anyway")
    original = state["original"]
    if original is None:
        reg.delete(alias)
    else:
        reg.set(alias, RegValue(original["type"], original["data"]))
    (state_folder / STATE_FILE).unlink()
    return {"alias": alias, "action": "deleted" if original is None else "restored", "original": original}
