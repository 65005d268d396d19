"""A real PostgreSQL server for the tests, started from the system's binaries in a temp folder.

`initdb` and `pg_ctl` come from PATH or /usr/lib/postgresql/*/bin (Debian's package puts them
only there). The server listens on a Unix socket inside its own folder and on no TCP port, so
parallel test sessions never collide. PostgreSQL refuses to run as root: when the tests run as
root, the folder is handed to the `postgres` user (or `nobody`) and the server runs as that user.
Authentication is `trust` for the socket only, which nobody else can reach.

`pg_server` is a session fixture; `PgServer.create_database` makes a fresh database per test,
copied from a template (one CREATE DATABASE, a few milliseconds) rather than one initdb per test.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

SUPERUSER = "talewright"
PORT = 5432
NOT_INSTALLED = (
    "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin); "
    ".ci/run installs it"
)
# Durability is the server's business, not the tests': without fsync a database costs nothing.
SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=200"
)


def find_binary(name: str) -> str | None:
    """`name` on PATH, else the newest /usr/lib/postgresql/<version>/bin/<name>."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates.sort(key=lambda path: _version_of(path), reverse=True)
    return candidates[0] if candidates else None


def _version_of(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None for the current user, unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


@dataclass
class PgServer:
    """A running server: its folder, its socket folder and how to reach a database on it."""

    folder: Path
    account: pwd.struct_passwd | None
    user: str = SUPERUSER
    port: int = PORT
    running: bool = field(default=False, init=False)

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        """A postgresql:// URL for `database`, reaching the server through its socket."""
        return (
            f"postgresql://{self.user}@/{database}"
            f"?host={quote(self.socket_dir, safe='/')}&port={self.port}"
        )

    def connect_kwargs(self, database: str = "postgres") -> dict[str, object]:
        """Keyword arguments for asyncpg.connect / create_pool."""
        return {"host": self.socket_dir, "port": self.port, "user": self.user, "database": database}

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` with psql (autocommit: CREATE DATABASE cannot run in a transaction)."""
        psql = find_binary("psql")
        if psql is None:
            raise RuntimeError("psql is missing beside initdb")
        command = [psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir]
        command += ["-p", str(self.port), "-U", self.user, "-d", database, "-c", sql]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, template: str | None = None, name: str | None = None) -> str:
        """Create a new empty database (or a copy of `template`); returns its name."""
        name = name or f"test_{uuid.uuid4().hex[:16]}"
        source = f' TEMPLATE "{template}"' if template else ""
        self.psql(f'CREATE DATABASE "{name}"{source}')
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def start(self) -> None:
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError(NOT_INSTALLED)
        if self.account is not None:
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)
        data = str(self.data_dir)
        self._run_as_server(
            [initdb, "-D", data, "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync"]
        )
        options = f"{SERVER_OPTIONS} -k {self.socket_dir} -p {self.port}"
        log = str(self.folder / "server.log")
        self._run_as_server([pg_ctl, "start", "-w", "-D", data, "-l", log, "-o", options])
        self.running = True

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder; safe to call twice."""
        if self.running:
            pg_ctl = find_binary("pg_ctl")
            self.running = False
            if pg_ctl is not None:
                self._run_as_server(
                    [pg_ctl, "stop", "-w", "-m", "fast", "-D", str(self.data_dir)], check=False
                )
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.folder / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _run_as_server(self, command: list[str], *, check: bool = True) -> None:
        ids = {}
        if self.account is not None:
            ids = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        done = subprocess.run(
            command, cwd=self.folder, env=env, capture_output=True, text=True, timeout=120, **ids
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}\n{self.log_tail()}"
            )


def start_server() -> PgServer:
    """Start a server in a new folder under the system temp folder (short enough for a socket
    path, and reachable by the server's account, which pytest's own tmp folders are not)."""
    folder = Path(tempfile.mkdtemp(prefix="talewright-pg-"))
    server = PgServer(folder, _server_account())
    atexit.register(server.stop)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session; skipped only where none is installed."""
    if find_binary("initdb") is None or find_binary("pg_ctl") is None:
        pytest.skip(NOT_INSTALLED)
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
