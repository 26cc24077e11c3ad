"""codec_stub added as an ACM function driver (tapclient acmexit) through the tap, in 64-bit
and 32-bit: msacm32 asks for its ACMDM_DRIVER_DETAILS and then for as many format tags as they
give. The stub once left the details unwritten, and msacm32 looped over the stack's garbage
(under the x86 tap the tape grew by hundreds of MB); it gives no tags now, and the run ends."""
import pytest

from drvtape.formats.tape import CallRecord, Record, records

from test_drvtap import ingest, run_client

ACMDM_DRIVER_DETAILS, ACMDM_FORMATTAG_DETAILS = 0x600A, 0x6019  # ACMDM_BASE (DRV_USER+0x2000) + 10, + 25


@pytest.fixture(params=["x64", "x86"])
def built(request):
    """(tap, client, driver) of the arch."""
    if request.param == "x64":
        return tuple(request.getfixturevalue(f) for f in ("tap", "client", "driver"))
    return tuple(request.getfixturevalue(f) for f in ("tap_x86", "client_x86", "driver_x86"))


def test_acm_function_driver_details_end_the_run(tmp_path, built, drvtape):
    tap, client, driver = built
    tape = tmp_path / "acm.drvtape"
    proc = run_client(client, tap, "acmexit", real=driver("codec_stub"), tape=tape)
    assert proc.returncode == 0 and "open 0 0" in proc.stdout, (proc.stdout, proc.stderr)
    msgs = [r.fields.msg for r in records(tape.read_bytes(), []) if isinstance(r, Record)
            and isinstance(r.fields, CallRecord)]
    assert msgs.count(ACMDM_DRIVER_DETAILS) >= 1 and ACMDM_FORMATTAG_DETAILS not in msgs
    (session,) = ingest(drvtape, tmp_path / "t.db", tape)["tapes"][0]["sessions"]
    assert session["end_reason"] == "process-exit"
