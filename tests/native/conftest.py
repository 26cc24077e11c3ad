"""Fixtures for the drvhost tests: one built drvhost, one Wine prefix, test drivers built once.

In CI (CI=true) a missing Wine or mingw-w64 fails these tests; elsewhere it skips them. The one
exception is 32-bit Wine where the package registry could not provide it: .ci/run puts the
resolver's error line in DRVTAPE_WINE32_UNAVAILABLE, and the x86 tests skip with it."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from drvtape.dllhost import host_available, wine
from drvtape.dllhost.arch import X86
from drvtape.dllhost.build import build_drvhost, build_drvtap, compile_pe
from drvtape.errors import DrvtapeError

from tests.native import codec_sessions

DRIVERS = Path(__file__).parent / "drivers"
WINE_DRIVERS = Path("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows")  # Debian's wine64
WINE_DRIVERS_X86 = Path("/usr/lib/i386-linux-gnu/wine/i386-windows")  # Debian's wine32:i386
WINE32_UNAVAILABLE_ENV = "DRVTAPE_WINE32_UNAVAILABLE"
WINE_DRIVER_FILES = ("msrle32.dll", "iccvid.dll", "msvidc32.dll", "msadp32.acm", "imaadp32.acm", "msg711.acm")
WINE_CODEC_FILES = (*WINE_DRIVER_FILES, "msgsm32.acm", "l3codeca.acm")


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def wineserver_folders_removed(tmp_path_factory):
    """Debian's Wine makes the socket folder of a new prefix's wineserver in TMPDIR (wine-XXXXXX,
    its name kept in the prefix's `wineserver` file; drvtape's Wine processes have
    TMPDIR=SERVER_TMPDIR) and leaves it there when the prefix is gone: those of the prefixes
    this session made in its tmp_paths go at the session's end."""
    tmp = Path(wine.SERVER_TMPDIR)
    yield
    base = tmp_path_factory.getbasetemp()
    for named in [*base.glob("*/wineserver"), *base.glob("*/*/wineserver")]:
        if not named.with_name("system.reg").is_file():
            continue
        folder = tmp / named.read_text(encoding="utf-8", errors="replace").strip()
        if folder.name.startswith("wine-") and folder.parent == tmp and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def host() -> None:
    """drvhost built and (off Windows) the Wine prefix ready, or skip/fail."""
    try:
        host_available()
        build_drvhost()
        if os.name != "nt":
            wine.ensure_prefix()
    except DrvtapeError as e:
        unavailable(str(e))


@pytest.fixture(scope="session")
def driver(host):
    """driver("name") -> path of tests/native/drivers/name.c built as a DLL."""
    built: dict[str, str] = {}

    def build(name: str) -> str:
        if name not in built:
            built[name] = str(compile_pe([DRIVERS / f"{name}.c"], dll=True))
        return built[name]

    return build


@pytest.fixture(scope="session")
def wine_drivers(host) -> Path:
    """The folder holding Wine's own installable drivers."""
    missing = [f for f in WINE_DRIVER_FILES if not (WINE_DRIVERS / f).is_file()]
    if missing:
        unavailable(f"Wine's drivers {missing} are not in {WINE_DRIVERS}")
    return WINE_DRIVERS


@pytest.fixture(scope="session")
def tap(host) -> Path:
    """drvtap.dll, built once per run."""
    return build_drvtap()


@pytest.fixture(scope="session")
def client(host) -> Path:
    """tapclient.exe (tests/native/clients/tapclient.c): the client the tap tests drive."""
    return compile_pe([Path(__file__).parent / "clients" / "tapclient.c"], flags=["-municode"])


@pytest.fixture(scope="session")
def cross_compilers() -> dict[str, str]:
    """{"x64": path, "x86": path} of both mingw-w64 C compilers, or skip/fail."""
    found = {arch: shutil.which(name) for arch, name in
             (("x64", "x86_64-w64-mingw32-gcc"), ("x86", "i686-w64-mingw32-gcc"))}
    missing = [arch for arch, path in found.items() if path is None]
    if missing:
        unavailable(f"the mingw-w64 compiler for {', '.join(missing)} is not on PATH")
    return found


@pytest.fixture(scope="session")
def wine_codecs(host) -> Path:
    """The folder holding every Wine codec the codec tests drive (tests/native/codec_sessions.py)."""
    missing = [f for f in WINE_CODEC_FILES if not (WINE_DRIVERS / f).is_file()]
    if missing:
        unavailable(f"Wine's codecs {missing} are not in {WINE_DRIVERS}")
    return WINE_DRIVERS


@pytest.fixture(scope="session")
def codec_client(host) -> Path:
    """codec_client.exe (tests/native/clients/codec_client.c), on the real avifil32/msvfw32/msacm32."""
    return compile_pe(codec_sessions.CLIENT, flags=["-municode"], libs=codec_sessions.CLIENT_LIBS)


@pytest.fixture(scope="session")
def codec_media(host, tmp_path_factory) -> Path:
    """AVI and WAV files Debian's ffmpeg makes for the codec tests."""
    ffmpeg = codec_sessions.ffmpeg_path()
    if ffmpeg is None:
        unavailable("ffmpeg not found (Debian package ffmpeg)")
    return codec_sessions.make_media(ffmpeg, tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def host_x86() -> None:
    """The x86 drvhost built and (off Windows) the 32-bit Wine prefix ready, or skip/fail (the
    compiler first: its absence fails in CI whatever happened to 32-bit Wine)."""
    try:
        build_drvhost(X86)
    except DrvtapeError as e:
        unavailable(str(e))
    try:
        if os.name != "nt":
            wine.wine_binary(X86)
    except DrvtapeError as e:
        resolver_error = os.environ.get(WINE32_UNAVAILABLE_ENV)
        if resolver_error:
            pytest.skip(f"32-bit Wine could not be installed: {resolver_error}")
        unavailable(str(e))
    try:
        if os.name != "nt":
            wine.ensure_prefix(X86)
    except DrvtapeError as e:
        unavailable(str(e))


@pytest.fixture(scope="session")
def driver_x86(host_x86):
    """driver_x86("name") -> path of tests/native/drivers/name.c built as a 32-bit DLL."""
    built: dict[str, str] = {}

    def build(name: str) -> str:
        if name not in built:
            built[name] = str(compile_pe([DRIVERS / f"{name}.c"], dll=True, arch=X86))
        return built[name]

    return build


@pytest.fixture(scope="session")
def tap_x86(host_x86) -> Path:
    return build_drvtap(X86)


@pytest.fixture(scope="session")
def client_x86(host_x86) -> Path:
    """tapclient.exe built as a 32-bit program."""
    return compile_pe([Path(__file__).parent / "clients" / "tapclient.c"], flags=["-municode"], arch=X86)


@pytest.fixture(scope="session")
def wine_drivers_x86(host_x86) -> Path:
    """The folder holding Wine's own 32-bit installable drivers."""
    missing = [f for f in WINE_DRIVER_FILES if not (WINE_DRIVERS_X86 / f).is_file()]
    if missing:
        unavailable(f"Wine's 32-bit drivers {missing} are not in {WINE_DRIVERS_X86}")
    return WINE_DRIVERS_X86
