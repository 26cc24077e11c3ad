"""`drvtape tap install/uninstall/status`: record a real driver's sessions by pointing its
Drivers32 alias at the drvtap proxy (see drvtape.recorder.tapinstall and docs/drvtap.md)."""

import typer

from drvtape.cli.app import app
from drvtape.cli.render import out, print_json

tap_app = typer.Typer(help="Point a Drivers32 alias at the recording tap (drvtap.dll) and back.",
                      no_args_is_help=True)
app.add_typer(tap_app, name="tap")


@tap_app.command("install")
def tap_install(
    alias: str = typer.Option(..., "--alias", help="The Drivers32 alias, e.g. vidc.mrle."),
    real: str = typer.Option(..., "--real", metavar="DLL", help="The real driver the tap forwards to."),
    tap: str = typer.Option(None, "--tap", metavar="PATH", help="A built drvtap.dll [default: build it]."),
    tape: str = typer.Option(None, "--tape", metavar="PATH",
                             help="The tape file [default: <real name>.<pid>.drvtape in the application's folder]."),
    folder: str = typer.Option(None, "--dir", metavar="DIR",
                               help="Where the tap's copy and drvtap.cfg go [default: beside the Wine prefix]."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Point ALIAS at a copy of drvtap.dll that forwards to DLL, keeping the alias's value."""
    from drvtape.recorder.tapinstall import install

    done = install(alias, real, tap=tap, tape=tape, folder=folder)
    if as_json:
        print_json(done)
        return
    was = done["original"]["data"] if done["original"] else "(no value)"
    out.print(f"{done['action']}: {alias} -> {done['installed']['data']} (forwarding to {done['real']}; "
              f"was {was})", markup=False)


@tap_app.command("uninstall")
def tap_uninstall(
    alias: str = typer.Option(..., "--alias", help="The Drivers32 alias given to install."),
    force: bool = typer.Option(False, "--force", help="Restore the original even if the value changed since."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Put back exactly what ALIAS held before install (delete it if it did not exist)."""
    from drvtape.recorder.tapinstall import uninstall

    done = uninstall(alias, force=force)
    if as_json:
        print_json(done)
        return
    if done["original"] is None:
        out.print(f"deleted {alias} (it did not exist before install)", markup=False)
    else:
        out.print(f"restored {alias} -> {done['original']['data']}", markup=False)


@tap_app.command("status")
def tap_status(
    alias: str = typer.Option(..., "--alias", help="The Drivers32 alias."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """What ALIAS holds now and whether drvtape installed the tap on it."""
    from drvtape.recorder.tapinstall import status

    st = status(alias)
    if as_json:
        print_json(st)
        return
    value = st["value"]["data"] if st["value"] else "(no value)"
    if st["installed"]:
        state = "installed" if st["intact"] else "installed, but the value was changed since"
        out.print(f"{alias}: {state}: {value} (forwarding to {st['real']})", markup=False)
    else:
        out.print(f"{alias}: not installed: {value}", markup=False)
