"""Running Windows programs: natively on Windows, under Wine (a private prefix) elsewhere.

A program runs as its PE machine says (drvtape.dllhost.pe): x64 ones under the 64-bit loader
in a 64-bit prefix, x86 ones under the 32-bit loader in a 32-bit (WINEARCH=win32) prefix. A
64-bit prefix made without wine32 installed cannot run 32-bit programs (checked with Wine 8.0:
"could not load kernel32.dll, status c0000135"), so the two are kept apart.
The prefixes are $XDG_CACHE_HOME/drvtape/wineprefix and .../wineprefix-x86 (env
DRVTAPE_WINEPREFIX and DRVTAPE_WINEPREFIX_X86 override), each initialised once (wineboot
takes ~10 s) under a file lock so parallel runs do not race, and reused. The loaders are
/usr/lib/wine/wine64 (Debian's wine64) and /usr/lib/wine/wine (wine32:i386), or wine64 and
wine on PATH, or whatever env DRVTAPE_WINE and DRVTAPE_WINE_X86 name.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from drvtape.errors import DrvtapeError

from drvtape.dllhost.arch import X64, X86, Arch
from drvtape.dllhost.cache import cache_root
from drvtape.dllhost.pe import pe_arch
from drvtape.dllhost.slowstep import announced

PREFIX_ENV = "DRVTAPE_WINEPREFIX"  # the x64 prefix's
PREFIX_ENV_X86 = "DRVTAPE_WINEPREFIX_X86"
_READY_MARK = ".drvtape-ready"
# Wine's default prefix names winedbg as the AeDebug debugger; drvhost handles its own
# faults, and with the value gone (and winedbg disabled) no crash can ever start it.
_AEDEBUG = r"HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug"
_DLLOVERRIDES = "mscoree,mshtml=;winedbg.exe=d"  # no Mono/Gecko install prompts, no winedbg
# Debian's wineserver wrapper runs `wineserver64 -p0`: the server (and services.exe, explorer...)
# goes down the moment the prefix's last process exits, so every drvhost or `wine reg` started
# after another ended pays Wine's whole start-up (`cmd /c exit`: 1.5-2.6 s, against 0.1-0.4 s
# with the server up), and one starting just as the server goes down finds its socket closed:
# the "wine client error:0: recvmsg: Connection reset by peer" the suite hit under load (seen
# there, not reproduced in 220 back-to-back starts here). So a server is started first that
# lingers this long once idle (a later -p overrides the wrapper's -p0; with a server already
# running for the prefix it exits at once, status 2, in ~7 ms).
SERVER_LINGER_S = 30
SERVER_START_S = 60  # a server starting on a loaded machine; never wait without bound
# Debian's Wine 8.0 keys a prefix's server socket on TMPDIR: it is $TMPDIR/<name>/server-<dev>-<inode>/socket
# (/tmp when TMPDIR is unset; <name> is the wine-XXXXXX made once and kept in the prefix's `wineserver`
# file, <dev> and <inode> the prefix folder's, in hex). Checked by running: one prefix under two TMPDIRs
# had two wineservers at once, and a value one's `reg add` wrote was not seen by the other's `reg query`
# (and was lost when the other saved the registry over it). So every Wine process drvtape starts gets the
# TMPDIR a plain `wine` gets by default, whatever drvtape's own TMPDIR is: one prefix, one server.
SERVER_TMPDIR = "/tmp"


def wine_binary(arch: Arch = X64) -> str:
    """The Wine loader for arch's programs, or DrvtapeError saying how to install it."""
    override = os.environ.get(arch.wine_env)
    if override:
        found = shutil.which(override)
    else:
        found = arch.wine if os.access(arch.wine, os.X_OK) else shutil.which(arch.wine_on_path)
    if found is None:
        named = f"{arch.wine_env}={override}" if override else arch.wine
        raise DrvtapeError(f"Wine for {arch.name} programs not found ({named}): install the Debian package "
                           f"{arch.wine_package} ({arch.wine_install})")
    return found


def prefix_dir(arch: Arch = X64) -> Path:
    if arch is X86:
        return Path(os.environ.get(PREFIX_ENV_X86) or cache_root() / "wineprefix-x86")
    return Path(os.environ.get(PREFIX_ENV) or cache_root() / "wineprefix")


def wine_env(prefix: Path) -> dict[str, str]:
    """The environment of a Wine process in prefix: this one's, with the prefix, Wine's quiet
    settings and the one TMPDIR its server is found under."""
    env = dict(os.environ)
    env.update(WINEPREFIX=str(prefix), WINEDEBUG="-all", WINEDLLOVERRIDES=_DLLOVERRIDES, TMPDIR=SERVER_TMPDIR)
    return env


def _wineserver(wine: str) -> str:
    beside = Path(wine).with_name("wineserver")
    return str(beside) if beside.exists() else shutil.which("wineserver") or "wineserver"


def _init_prefix(wine: str, prefix: Path, arch: Arch) -> None:
    env = wine_env(prefix)
    if arch is X86:
        env["WINEARCH"] = "win32"  # read when the prefix is created only
    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    boot = subprocess.run([wine, "wineboot", "--init"], **quiet)
    if boot.returncode != 0:
        raise DrvtapeError(f"wineboot failed for {prefix}: {boot.stderr.decode(errors='replace').strip()[-200:]}")
    subprocess.run([wine, "reg", "delete", _AEDEBUG, "/v", "Debugger", "/f"], **quiet)
    subprocess.run([_wineserver(wine), "-w"], **quiet)  # the registry is on disk when it exits


def _keep_server(wine: str, prefix: Path) -> None:
    """A lingering server for the prefix. A new server's system processes (services.exe,
    explorer.exe, ...) are started by its first Wine process and inherit its stdout and
    stderr: a caller reading those pipes to their end would wait for as long as the server
    lives (checked: `wine64 cmd /c exit 2>&1 | cat` takes the 30 s of linger). So a new
    server's first process is one of ours with no pipes."""
    quiet = dict(env=wine_env(prefix), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, timeout=SERVER_START_S)
    try:
        started = subprocess.run([_wineserver(wine), f"-p{SERVER_LINGER_S}"], **quiet).returncode == 0
        if started:
            subprocess.run([wine, "cmd", "/c", "exit"], **quiet)
    except subprocess.TimeoutExpired as e:
        raise DrvtapeError(f"wineserver did not start within {SERVER_START_S} s for {prefix}") from e


def ensure_prefix(arch: Arch = X64) -> Path:
    """The private Wine prefix for arch's programs, created on first use, with a wineserver
    running for it (under a file lock, so parallel runs neither race the creation nor the
    server's start)."""
    import fcntl  # POSIX only, and only needed where there is Wine

    wine = wine_binary(arch)
    prefix = prefix_dir(arch)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f"{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (prefix / _READY_MARK).exists():
            with announced(f"creating the Wine prefix {prefix}"):
                _init_prefix(wine, prefix, arch)
            (prefix / _READY_MARK).touch()
        _keep_server(wine, prefix)
    return prefix


def command(exe: Path) -> tuple[list[str], dict[str, str] | None]:
    """argv and environment that run a Windows exe here (a builtin such as `reg` as x64)."""
    if os.name == "nt":
        return [str(exe)], None
    arch = pe_arch(exe) if Path(exe).is_file() else X64
    return [wine_binary(arch), str(exe)], wine_env(ensure_prefix(arch))


def windows_path(path: str) -> str:
    """The path as the Windows program sees it (Wine maps / to drive Z: in every prefix)."""
    path = os.path.abspath(path)
    return path if os.name == "nt" else "Z:" + path.replace("/", "\\")
