"""The pytest plugin, as a user's test suite uses it (pytest's own pytester runs it)."""

import shutil
from pathlib import Path

pytest_plugins = ["pytester"]
TAPES = Path(__file__).parent / "tapes"


def suite(pytester, body):
    shutil.copytree(TAPES, pytester.path / "tapes")
    pytester.makepyfile(test_cassettes=body)
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")


def test_a_recorded_bug_replays_as_a_passing_test_and_the_fixture_gives_the_report(pytester):
    result = suite(pytester, """
        import pytest

        @pytest.mark.drvtape("tapes/exit-spin.jsonl", target="recorded")
        def test_exit_spin_still_hangs(drvtape_replay):
            assert drvtape_replay.recording.outcome.kind == "hang"
            assert drvtape_replay.runs[0].kind == "hang"

        @pytest.mark.drvtape("tapes/use-after-release.jsonl", target="sim:use-after-release", repeat=3)
        def test_use_after_release_faults_3_of_3():
            pass

        @pytest.mark.drvtape("tapes/use-after-release.jsonl", target="sim:reference", expect="not-reproduced")
        def test_the_correct_driver_no_longer_faults():
            pass
    """)
    result.assert_outcomes(passed=3)


def test_a_failure_says_the_first_divergence_or_that_the_bug_still_happens(pytester):
    result = suite(pytester, """
        import pytest

        @pytest.mark.drvtape("tapes/exit-spin.jsonl", target="sim:reference")
        def test_reference_does_not_hang():
            pass

        @pytest.mark.drvtape("tapes/use-after-release.jsonl", target="recorded", expect="not-reproduced")
        def test_the_buggy_driver_is_fixed():
            pass

        @pytest.mark.drvtape("tapes/missing.jsonl")
        def test_a_missing_tape():
            pass
    """)
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert "diverged at seq 9 (DRV_OPEN): expected return 0 (0x0), got return 4098" in out
    assert "the recorded failure still happens against sim:use-after-release" in out
    assert "fault 0xC0000005 in sim:use-after-release+0x1140 at seq 11 (DRV_CLOSE)" in out
    assert "missing.jsonl" in out and "Traceback" not in out
