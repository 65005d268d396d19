"""The session PostgreSQL server: reachable by URL, fresh databases on demand, never root."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from pg_server import PgServer


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for process {pid}")


async def test_server_answers_on_its_url_and_makes_fresh_databases(pg_server: PgServer) -> None:
    first, second = pg_server.create_database(), pg_server.create_database()
    try:
        conn = await asyncpg.connect(pg_server.url(first))
        try:
            await conn.execute("CREATE TABLE only_here (x int)")
            assert await conn.fetchval("SELECT current_database()") == first
        finally:
            await conn.close()
        conn = await asyncpg.connect(**pg_server.connect_kwargs(second))
        try:
            assert await conn.fetchval("SELECT to_regclass('only_here')") is None
        finally:
            await conn.close()
    finally:
        pg_server.drop_database(first)
        pg_server.drop_database(second)


def test_server_never_runs_as_root(pg_server: PgServer) -> None:
    pid = int((pg_server.data_dir / "postmaster.pid").read_text().split()[0])
    assert _uid_of(pid) != 0
