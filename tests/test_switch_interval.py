"""The recorder's opt-in switch interval (issue 16 item 3) is the process's only while the
session records."""

import sys

import pytest

from drvtape.errors import DrvtapeError
from drvtape.recorder import Recorder


def test_the_switch_interval_is_the_recorders_while_it_records(tmp_path):
    before = sys.getswitchinterval()
    with Recorder(str(tmp_path / "switch.db"), driver="switch", switch_interval=0.0005):
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    assert sys.getswitchinterval() == before
    with Recorder(str(tmp_path / "switch.db"), driver="switch"):
        assert sys.getswitchinterval() == before


@pytest.mark.parametrize("seconds", [0, -1, 2])
def test_a_switch_interval_out_of_range_is_refused_before_a_session_begins(tmp_path, seconds):
    with pytest.raises(DrvtapeError, match="switch_interval"):
        Recorder(str(tmp_path / "refused.db"), driver="switch", switch_interval=seconds)
    assert not (tmp_path / "refused.db").exists()
