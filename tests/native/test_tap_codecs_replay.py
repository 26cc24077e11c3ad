"""Issue 10 end to end: every session the codec client records through the tap in front of
each of Wine's codecs ingests (memory blocks and all), and replays against the real DLL in
drvhost 5 of 5 reproduced, with the outputs the driver wrote compared; the table
codec x client -> sessions, reproduced, outputs compared is printed (pytest -s) for the
issue's closing note."""

import pytest

from tests.native.codec_sessions import CODECS, ingested_sessions, record_codec, replayed_faithfully
from tests.native.test_tap_install_places import own_prefix  # noqa: F401  (a fixture)

TABLE: list[tuple[str, str, int, int, int, int]] = []


@pytest.mark.parametrize("real", CODECS)
def test_every_codec_session_replays_5_of_5_with_its_outputs_compared(own_prefix, codec_client, codec_media,  # noqa: F811
                                                                      wine_codecs, tmp_path, real):
    for run in record_codec(codec_client, wine_codecs, real, codec_media, tmp_path):
        db = tmp_path / f"{run.tape.stem}.db"
        sessions = ingested_sessions(db, run)
        reproduced = compared = compared_bytes = 0
        for session in sessions:
            report = replayed_faithfully(db, run, session, wine_codecs / real)
            reproduced += 1
            compared += report["outputs_compared"]
            compared_bytes += report["bytes_compared"]
        assert compared > 0, run.args  # the decodes and conversions wrote memory that was compared
        TABLE.append((real, " ".join(run.args), len(sessions), reproduced, compared, compared_bytes))


def teardown_module() -> None:
    if TABLE:
        print("\ncodec | client | sessions | reproduced 5/5 | outputs compared | bytes compared")
        for row in TABLE:
            print(" | ".join(map(str, row)))
