"""`drvtape tap install/uninstall/status`: point a driver alias at drvtap.dll and back.

A driver alias (e.g. `vidc.mrle`) names the DLL winmm/msvfw32/msacm load for it; where the
system keeps aliases is drvtape.recorder.aliasplaces. `install` copies drvtap.dll into a
folder of its own for that alias (a cached build path may change; one drvtap.dll serves one
real driver, so each alias gets its copy), writes drvtap.cfg beside it (line 1 the real
driver, line 2 the tape when one is given; otherwise the tap writes
`<real driver name>.<pid>.drvtape` in the application's current folder), and points the
alias at the copy in every place that holds it (a new alias: the registry only), so the
driver list applications see is the same with and without the tap. What each place held is
saved first in install.json in that folder; `uninstall` writes back exactly that, or
deletes the alias where it did not exist.
The real driver's PE machine picks the arch: an x86 driver gets the x86 tap, in the places
32-bit programs read (aliasplaces), and its install record lives with that arch's prefix.
Wine splits a Drivers32 value at its first space (the rest is passed to DRV_OPEN as
lParam1), so the tap's path must have no space in it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from drvtape.dllhost import wine
from drvtape.dllhost.arch import ARCHES, X64, Arch
from drvtape.dllhost.build import build_drvtap_for
from drvtape.dllhost.cache import cache_root
from drvtape.dllhost.pe import pe_arch
from drvtape.errors import DrvtapeError
from drvtape.recorder.aliasplaces import Entry, alias_places

STATE_FILE = "install.json"
TAP_NAME = "drvtap.dll"
CFG_NAME = "drvtap.cfg"


# ---- where installs live -----------------------------------------------------------------

def installs_root(arch: Arch = X64) -> Path:
    """Beside arch's Wine prefix (each prefix has its own registry, so its own installs); on
    Windows in drvtape's cache folder. x86 ones apart (-x86), as one prefix may hold both."""
    suffix = "" if arch is X64 else f"-{arch.name}"
    if os.name == "nt":
        return cache_root() / f"taps{suffix}"
    prefix = wine.prefix_dir(arch)
    return prefix.parent / f"{prefix.name}-taps{suffix}"


def state_folder(alias: str, arch: Arch = X64) -> Path:
    """The folder of ALIAS's install record (and, without --dir, of its tap's copy) for arch."""
    return installs_root(arch) / re.sub(r"[^A-Za-z0-9._-]", "_", alias.lower())


def installed_arch(alias: str) -> Arch:
    """The arch ALIAS was installed for (x64 when it was not installed for either)."""
    return next((a for a in ARCHES.values() if (state_folder(alias, a) / STATE_FILE).exists()), X64)


def _check_alias(alias: str) -> None:
    if not alias or alias.strip() != alias or "\\" in alias or "=" in alias or any(ord(c) < 32 for c in alias):
        raise DrvtapeError(f"not a driver alias: {alias!r}")


def _points_at_a_tap(value: Entry | None) -> bool:
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


def _write_state(folder: Path, state: dict) -> None:
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(tmp, folder / STATE_FILE)


def _is_intact(state: dict, now: dict) -> bool:
    """Every place install changed still holds what install wrote there."""
    return all(now.get(p["place"]) == Entry.from_json(p["installed"]) for p in state["places"])


# ---- status, install, uninstall -----------------------------------------------------------

def status(alias: str, arch: Arch | None = None) -> dict:
    """What ALIAS holds where arch's programs read it (arch: the one it was installed for)."""
    _check_alias(alias)
    arch = arch or installed_arch(alias)
    state = _read_state(state_folder(alias, arch))
    now = {place.name: place.get(alias) for place in alias_places(arch)}
    held = [{"place": name, "value": v.to_json()} for name, v in now.items() if v is not None]
    info = {"alias": alias, "arch": arch.name, "installed": state is not None, "places": held,
            "value": held[0]["value"] if held else None,
            "points_at_tap": any(_points_at_a_tap(v) for v in now.values())}
    if state is None:
        return {**info, "original": None, "real": None, "tape": None, "tap": None, "intact": False}
    return {**info, "original": state["places"][0]["original"], "real": state["real"], "tape": state["tape"],
            "tap": state["tap"], "intact": _is_intact(state, now)}


def _tap_source(tap: str | None, real: Path, arch: Arch) -> Path:
    """The tap given (of the real driver's arch), else the one built for the real driver (its
    arch and device entry points)."""
    if tap is None:
        return build_drvtap_for(real, arch)
    source = Path(tap).resolve()
    if not source.is_file():
        raise DrvtapeError(f"tap not found: {tap}")
    tap_arch = pe_arch(source)
    if tap_arch is not arch:
        raise DrvtapeError(f"the tap {tap} is {tap_arch.name} and the real driver {arch.name}: "
                           f"a process loads only DLLs of its own arch")
    return source


def _same_install(state: dict, now: dict, real: Path, tape: str | None, tap: str | None) -> bool:
    return (_is_intact(state, now) and state["real"] == str(real) and state["tape"] == tape
            and (tap is None or state["source"] == str(Path(tap).resolve())))


def _summary(state: dict, action: str) -> dict:
    """The install record, with the first place's original and installed values beside it."""
    first = state["places"][0]
    return {**state, "original": first["original"], "installed": first["installed"], "action": action}


def _installed_value(win_tap: str, was: Entry | None) -> str:
    # the arguments after the original DLL's name (passed to DRV_OPEN as lParam1) are kept
    # (verbatim: Wine hands DRV_OPEN the text after the first space as it is)
    args = was.data.split(" ", 1)[1] if was is not None and " " in was.data else None
    return win_tap + (" " + args if args is not None else "")


def install(alias: str, real: str, tap: str | None = None, tape: str | None = None,
            folder: str | None = None) -> dict:
    """Point ALIAS at a copy of drvtap.dll configured to forward to REAL; returns what was done."""
    _check_alias(alias)
    real_path = Path(real).resolve()
    if not real_path.is_file():
        raise DrvtapeError(f"real driver not found: {real}")
    arch = pe_arch(real_path)
    record_folder = state_folder(alias, arch)
    where = Path(folder).resolve() if folder else record_folder
    targets = [p for p in alias_places(arch) if p.arch in (None, arch.name)]
    now = {place.name: place.get(alias) for place in targets}
    state = _read_state(record_folder)
    tape_path = str(Path(tape).resolve()) if tape else None

    if state is not None:
        if _same_install(state, now, real_path, tape_path, tap):
            return _summary(state, "already installed")
        raise DrvtapeError(f"alias {alias} is already installed (forwarding to {state['real']}): "
                           f"run `drvtape tap uninstall --alias {alias}` first")
    foreign = next((v for v in now.values() if _points_at_a_tap(v)), None)
    if foreign is not None:
        raise DrvtapeError(f"alias {alias} already points at a drvtap ({foreign.data}) that drvtape did not "
                           f"install here: refusing, its original value would be lost")

    source = _tap_source(tap, real_path, arch)
    where.mkdir(parents=True, exist_ok=True)
    record_folder.mkdir(parents=True, exist_ok=True)
    dest = where / TAP_NAME
    if source != dest:
        shutil.copyfile(source, dest)
    win_tap = wine.windows_path(str(dest))
    if " " in win_tap:
        raise DrvtapeError(f"the tap's path has a space ({win_tap}), which ends a Drivers32 value: use --dir")
    lines = [wine.windows_path(str(real_path))] + ([wine.windows_path(tape_path)] if tape_path else [])
    (where / CFG_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")

    holding = [p for p in targets if now[p.name] is not None] or targets[:1]
    state = {"alias": alias, "arch": arch.name, "places": [], "real": str(real_path), "tape": tape_path,
             "tap": str(dest), "source": str(source), "cfg": str(where / CFG_NAME)}
    try:
        for place in holding:
            was = now[place.name]
            planned = {"place": place.name, "original": None if was is None else was.to_json(), "installed": None}
            state["places"].append(planned)
            _write_state(record_folder, state)  # the record first: uninstall restores a half-done install
            planned["installed"] = place.put(alias, _installed_value(win_tap, was), was).to_json()
            _write_state(record_folder, state)
    except DrvtapeError:
        _restore(alias, state, arch, force=True)
        (record_folder / STATE_FILE).unlink(missing_ok=True)
        raise
    return _summary(state, "installed")


def _changed_places(alias: str, state: dict, arch: Arch) -> list[tuple[object, Entry, Entry | None]]:
    """(place, what install wrote, what it holds now) for each place install wrote to."""
    by_name = {place.name: place for place in alias_places(arch)}
    written = [(by_name[p["place"]], Entry.from_json(p["installed"])) for p in state["places"]]
    return [(place, installed, place.get(alias)) for place, installed in written if installed is not None]


def _restore(alias: str, state: dict, arch: Arch, force: bool) -> None:
    """Put back each place's original; unless FORCE, only when no place changed since install
    (checked before anything is written, so a refusal leaves everything as it was)."""
    changed = _changed_places(alias, state, arch)
    for place, installed, current in changed:
        if not force and current != installed:
            now = "missing" if current is None else repr(current.data)
            raise DrvtapeError(f"alias {alias} was changed in {place.name} since install (now {now}): "
                               f"use --force to restore the original anyway")
    originals = {p["place"]: Entry.from_json(p["original"]) for p in state["places"]}
    for place, installed, current in changed:
        if current is None and installed.type == "INI":
            continue  # the line is gone: nothing of ours is left to write the original over
        place.restore(alias, originals[place.name], installed)


def uninstall(alias: str, force: bool = False, arch: Arch | None = None) -> dict:
    """Put back exactly what ALIAS held before `install` (or delete it where it did not exist);
    arch: the one it was installed for, found from the install records unless given."""
    _check_alias(alias)
    arch = arch or installed_arch(alias)
    record_folder = state_folder(alias, arch)
    state = _read_state(record_folder)
    if state is None:
        raise DrvtapeError(f"alias {alias} is not installed (no record in {record_folder})")
    _restore(alias, state, arch, force)
    (record_folder / STATE_FILE).unlink()
    original = state["places"][0]["original"] if state["places"] else None
    return {"alias": alias, "action": "deleted" if original is None else "restored", "original": original,
            "places": [p["place"] for p in state["places"]]}
