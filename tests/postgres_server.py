"""A private PostgreSQL server on loopback for the engine tests, started once per test run.

DRVTAPE_TEST_PG_URL names a server to use instead. Otherwise the server binaries of Debian's
`postgresql` package are used: initdb into a temporary folder (as the postgres user when we
are root, which initdb refuses to be), then pg_ctl start on 127.0.0.1.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa


class PostgresUnavailable(Exception):
    pass


PORT_ATTEMPTS = 3
# the system's temporary folder, taken at import: the server's folder must be one the postgres
# user can reach, not the tmp_path of the test that happens to start the server (conftest's
# temporary_files_in_tmp_path points tempfile there, in folders only root can enter)
SYSTEM_TMP = tempfile.gettempdir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.url = os.environ.get("DRVTAPE_TEST_PG_URL")
        self._dir = None
        self._as = []
        self._bin = None
        if self.url is None:
            self._start()
        self._counter = 0

    def _start(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise PostgresUnavailable("PostgreSQL server binaries not found: apt-get install postgresql")
        self._bin = Path(found[-1]).parent
        self._dir = Path(tempfile.mkdtemp(prefix="drvtape-pg-", dir=SYSTEM_TMP))
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self._dir / "data"
        self._run("initdb", "-D", str(data), "--auth=trust", "-U", "postgres")
        for attempt in range(PORT_ATTEMPTS):
            # a free port can be taken between asking and binding (by another test worker)
            port = _free_port()
            try:
                self._run("pg_ctl", "-D", str(data), "-l", str(self._dir / "log"), "-w", "start", "-o",
                          f"-k {self._dir} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off")
                break
            except PostgresUnavailable:
                if attempt == PORT_ATTEMPTS - 1:
                    raise
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run([*self._as, str(self._bin / tool), *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{tool} failed: {proc.stderr.strip() or proc.stdout.strip()}")

    def new_database(self, template: str | None = None) -> str:
        """The URL of a new database on the server: empty, or a copy of the database at the
        URL template (which nothing may be connected to)."""
        self._counter += 1
        name = f"drvtape_test_{os.getpid()}_{self._counter}"
        copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
        self._administer(f'CREATE DATABASE "{name}"{copy}')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, url: str) -> None:
        self._administer(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def _administer(self, sql: str) -> None:
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(sql)
        finally:
            engine.dispose()

    def stop(self) -> None:
        if self._dir is not None:
            self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "stop")
            shutil.rmtree(self._dir, ignore_errors=True)
