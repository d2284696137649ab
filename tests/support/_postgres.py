"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` and ``pg_ctl`` in a
temporary directory, listening on 127.0.0.1 on a free port, trust auth (nothing else can
reach it), stopped and deleted at the end.

PostgreSQL refuses to run as root. When we are root (CI is), the cluster runs as the
``postgres`` user that Debian's ``postgresql`` package creates, through ``runuser``; as any
other user it runs as that user. Under CI=true a missing PostgreSQL is a failure, never a
skip (.ci/run installs it)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

HINT = "PostgreSQL is missing: apt-get install postgresql (CI installs it)"


def find_bin() -> Path | None:
    """The newest installed server's bin directory (Debian keeps it off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """``PostgresCluster(durable=False)`` starts at once; ``url(schema)`` gives a URL whose
    connections work in that schema (created on demand); ``stop()`` removes everything."""

    _names = itertools.count(1)

    def __init__(self, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        bin_dir = find_bin()
        if bin_dir is None:
            raise RuntimeError(HINT)
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="edgecall-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: hand the directory to the postgres user.
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        options = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                   "unix_socket_directories": str(self.root), "max_connections": "200"}
        if not durable:  # tests: the cluster dies with them, durability buys nothing
            options |= {"fsync": "off", "synchronous_commit": "off",
                        "full_page_writes": "off"}
        options |= settings or {}
        flags = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run("pg_ctl", "-D", str(self.data), "-o", flags, "-w", "-t", "60",
                  "-l", str(self.root / "log"), "start")

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self.bin / tool), *args], capture_output=True,
                                text=True, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr or result.stdout}")

    @property
    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, schema: str | None = None) -> str:
        """A URL for a fresh schema of its own (each test gets one: no leftovers)."""
        import psycopg

        schema = schema or f"t{next(self._names)}"
        with psycopg.connect(self.base_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return f"{self.base_url}?options=-csearch_path%3D{schema}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
