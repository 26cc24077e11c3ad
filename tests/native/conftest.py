"""Fixtures for the drvhost tests: one built drvhost, one Wine prefix, test drivers built once.

In CI (CI=true) a missing Wine or mingw-w64 fails these tests; elsewhere it skips them."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from drvtape.dllhost import host_available, wine
from drvtape.dllhost.build import build_drvhost, build_drvtap, compile_pe
from drvtape.errors import DrvtapeError

from tests.native import codec_sessions

DRIVERS = Path(__file__).parent / "drivers"
WINE_DRIVERS = Path("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows")  # Debian's wine64
WINE_DRIVER_FILES = ("msrle32.dll", "iccvid.dll", "msvidc32.dll", "msadp32.acm", "imaadp32.acm", "msg711.acm")
WINE_CODEC_FILES = (*WINE_DRIVER_FILES, "msgsm32.acm", "l3codeca.acm")


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


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
