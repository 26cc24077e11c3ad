"""hook_run's folder (drvtape.recorder.hookrun): made in the work_dir it is given, holding the
tapes for its caller to store and remove; removed at once when the program cannot be started."""
import pytest

from drvtape.dllhost import wine
from drvtape.errors import DrvtapeError
from drvtape.recorder import taprun
from drvtape.recorder.hookrun import hook_run
from drvtape.recorder.taprun import choose_prefix


def test_the_run_folder_is_made_in_the_work_dir_with_the_tapes(tmp_path, client, driver):
    argv = [str(client), wine.windows_path(driver("thread_affinity")), "77", "88"]
    run = hook_run(argv, choose_prefix(None), work_dir=tmp_path)
    assert run.exit_code == 0 and run.folder.parent == tmp_path
    assert len(run.tapes) == 1 and run.tapes[0].sessions


def test_a_program_that_cannot_be_started_leaves_no_folder(tmp_path, host, monkeypatch):
    def no_wine(_arch):
        raise DrvtapeError("Wine not found")

    monkeypatch.setattr(taprun.wine, "wine_binary", no_wine)
    with pytest.raises(DrvtapeError, match="Wine not found"):
        hook_run(["client.exe"], choose_prefix(None), work_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
