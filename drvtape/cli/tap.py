"""`drvtape tap install/uninstall/status`: record a real driver's sessions by pointing its
Drivers32 alias at the drvtap proxy (see drvtape.recorder.tapinstall and docs/drvtap.md)."""

import typer

from drvtape.cli.app import app, examples
from drvtape.cli.options import DOCUMENT_FORMAT, JSON, output_format
from drvtape.cli.output import Format, out, print_json
from drvtape.dllhost.arch import ARCHES, Arch
from drvtape.errors import DrvtapeError
from drvtape.recorder.tapinstall import install, status, uninstall

tap_app = typer.Typer(help="Point a Drivers32 alias at the recording tap (drvtap.dll) and back.",
                      no_args_is_help=True, epilog=examples("drvtape tap status --alias vidc.mrle",
                                                            "drvtape tap install -h"))
app.add_typer(tap_app, name="tap")


ARCH = typer.Option(None, "--arch", metavar="x64|x86", show_default="the one it was installed for",
                    help="Whose programs' places: x64 or x86 (32-bit) ones.")


def _arch(name: str | None) -> Arch | None:
    if name is None:
        return None
    if name not in ARCHES:
        raise DrvtapeError(f"--arch {name!r}: use x64 or x86")
    return ARCHES[name]


@tap_app.command("install", epilog=examples(
    "drvtape tap install --alias vidc.mrle --real msrle32.dll",
    "drvtape tap install --alias vidc.mrle --real msrle32.dll --tape mrle.drvtape --json",
))
def tap_install(
    alias: str = typer.Option(..., "--alias", metavar="ALIAS", help="The Drivers32 alias, e.g. vidc.mrle."),
    real: str = typer.Option(..., "--real", metavar="DLL", help="The real driver the tap forwards to."),
    tap: str = typer.Option(None, "--tap", metavar="PATH", show_default="build it", help="A built drvtap.dll."),
    tape: str = typer.Option(None, "--tape", metavar="PATH", help="The tape file.",
                             show_default="<real name>.<pid>.drvtape in the application's folder"),
    folder: str = typer.Option(None, "--dir", metavar="DIR",
                               show_default="beside the Wine prefix", help="Where the tap's copy and drvtap.cfg go."),
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """Point ALIAS at a copy of drvtap.dll that forwards to DLL, keeping the alias's value."""
    done = install(alias, real, tap=tap, tape=tape, folder=folder)
    if output_format(fmt, as_json) is Format.JSON:
        print_json(done)
        return
    was = done["original"]["data"] if done["original"] else "(no value)"
    out.print(f"{done['action']}: {alias} -> {done['installed']['data']} (forwarding to {done['real']}; "
              f"was {was})", markup=False)


@tap_app.command("uninstall", epilog=examples("drvtape tap uninstall --alias vidc.mrle"))
def tap_uninstall(
    alias: str = typer.Option(..., "--alias", metavar="ALIAS", help="The Drivers32 alias given to install."),
    force: bool = typer.Option(False, "--force", help="Restore the original even if the value changed since."),
    arch: str = ARCH,
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """Put back exactly what ALIAS held before install (delete it if it did not exist)."""
    done = uninstall(alias, force=force, arch=_arch(arch))
    if output_format(fmt, as_json) is Format.JSON:
        print_json(done)
        return
    if done["original"] is None:
        out.print(f"deleted {alias} (it did not exist before install)", markup=False)
    else:
        out.print(f"restored {alias} -> {done['original']['data']}", markup=False)


@tap_app.command("status", epilog=examples("drvtape tap status --alias vidc.mrle --json"))
def tap_status(
    alias: str = typer.Option(..., "--alias", metavar="ALIAS", help="The Drivers32 alias."),
    arch: str = ARCH,
    fmt: Format = DOCUMENT_FORMAT,
    as_json: bool = JSON,
) -> None:
    """What ALIAS holds now and whether drvtape installed the tap on it."""
    st = status(alias, _arch(arch))
    if output_format(fmt, as_json) is Format.JSON:
        print_json(st)
        return
    value = st["value"]["data"] if st["value"] else "(no value)"
    if st["installed"]:
        state = "installed" if st["intact"] else "installed, but the value was changed since"
        out.print(f"{alias}: {state}: {value} (forwarding to {st['real']})", markup=False)
    else:
        out.print(f"{alias}: not installed: {value}", markup=False)
