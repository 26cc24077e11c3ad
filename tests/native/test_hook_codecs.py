"""`drvtape hook run` of the codec client with one of Wine's codecs loaded by path and installed
as a function (issue 10 item 3, through the hook): msrle32 by ICInstall(ICINSTALL_FUNCTION) for
the ICCompress -> ICDecompress round trip, msadp32 by acmDriverAdd(ACM_DRIVERADDF_FUNCTION) for
acmStreamConvert. The sessions carry the memory behind every message, replay 5 of 5 against the
real DLL with the outputs the driver wrote compared, and the client prints the same (frame and
audio checksums) with and without the hook."""
import json
import os
import subprocess
import sys

import pytest

from tests.native.codec_sessions import run_client

SYSTEM32 = "C:\\windows\\system32\\"
RUNS = {  # codec file: the client's arguments after `installed PATH`
    "msrle32.dll": ("roundtrip", "mrle", "64", "48", "3"),
    "msadp32.acm": ("acmconvert", "adpcm_ms.wav"),
}
REPEAT = 5


def drvtape(tmp_path, cwd, *args):
    command = [sys.executable, "-m", "drvtape", "--db", str(tmp_path / "c.db"), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRVTAP_")}
    env["TMPDIR"] = str(tmp_path)
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("real", RUNS)
def test_a_codec_installed_as_a_function_is_recorded_with_its_memory_and_replays_5_of_5(
        tmp_path, codec_client, codec_media, wine_codecs, real):
    args = ("installed", SYSTEM32 + real, *RUNS[real])
    plain = run_client(codec_client, args, codec_media)
    hooked = drvtape(tmp_path, codec_media, "hook", "run", "--json", "--", str(codec_client), *args)
    assert hooked.returncode == 0, hooked.stderr[-3000:]
    assert plain and plain in hooked.stderr  # hook run passes the program's stdout to stderr
    # one session: a function's tap holds both of the round trip's instances (compress, decompress)
    (session,) = [s for tape in json.loads(hooked.stdout)["tapes"] for s in tape["sessions"]]
    assert session["driver"].lower() == (SYSTEM32 + real).lower()
    assert session["end_reason"] == "process-exit"  # a function driver's tap is never freed
    replayed = drvtape(tmp_path, codec_media, "replay", session["session"], "--target",
                       f"dll:{wine_codecs / real}", "--repeat", str(REPEAT), "--json")
    assert replayed.returncode == 0, (replayed.stdout[-2000:], replayed.stderr)
    report = json.loads(replayed.stdout)
    assert report["reproduced_runs"] == REPEAT, report["distinct_outcomes"]
    assert report["first_memory_difference"] is None, report["first_memory_difference"]
    assert report["outputs_compared"] > 0 and report["bytes_compared"] > 0, report
