"""Third parties add simulated drivers through the `drvtape.drivers` entry-point group."""

import json
import os
import subprocess
import sys
import textwrap


def test_a_driver_from_an_installed_distribution_is_a_sim_target(tmp_path):
    site = tmp_path / "site"
    (site / "acme_drivers-1.0.dist-info").mkdir(parents=True)
    (site / "acme_drivers-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-drivers\nVersion: 1.0\n")
    (site / "acme_drivers-1.0.dist-info" / "entry_points.txt").write_text(
        "[drvtape.drivers]\nacme-wave = acme_wave:AcmeWave\n")
    (site / "acme_wave.py").write_text(textwrap.dedent("""
        from drvtape.runtime.sim import SimDriver

        class AcmeWave(SimDriver):
            name = "acme-wave"
            def on_open(self, driver_id, hdrvr, lparam1, lparam2):
                return 0x5150
            def on_close(self, driver_id, hdrvr, lparam1, lparam2):
                return 1 if driver_id == 0x5150 else 0
    """))
    workload = tmp_path / "w.toml"
    workload.write_text('[[steps]]\naction = "open"\ninstance = "a"\n\n[[steps]]\naction = "close"\ninstance = "a"\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    db = str(tmp_path / "p.db")

    def drvtape(*args):
        return subprocess.run([sys.executable, "-m", "drvtape", "--db", db, *args], env=env, capture_output=True,
                              text=True)

    rec = drvtape("record", "--target", "sim:acme-wave", "--workload", str(workload), "--json")
    assert rec.returncode == 0, rec.stderr
    assert json.loads(rec.stdout)["end_reason"] == "closed"
    events = json.loads(drvtape("events", "last", "--kind", "return", "--format", "json").stdout)
    assert [e["result"] for e in events] == [1, 1, 0x5150, 1, 1, 1]  # LOAD ENABLE OPEN CLOSE DISABLE FREE
    replayed = drvtape("replay", "last", "--target", "recorded", "--json")
    assert replayed.returncode == 0 and json.loads(replayed.stdout)["reproduced"] is True
    unknown = drvtape("replay", "last", "--target", "sim:acme-tape")
    assert unknown.returncode == 2 and "acme-wave" in unknown.stderr  # the known names are listed
