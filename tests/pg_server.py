"""A real PostgreSQL server for the tests: its own cluster in a temp dir, on 127.0.0.1.

Why not a shared server: tests must not depend on a machine's state, and each run must
start from an empty cluster. `initdb` refuses to run as root, so as root the cluster is
made and run by the `postgres` user (the Debian package creates it) in a folder it owns.
The binaries are found under /usr/lib/postgresql/*/bin or on PATH; `make test` installs
them first (scripts/ensure_postgres.sh). If the server cannot start the tests that need
it fail with the reason, never skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # the OS account that runs the cluster when we are root


def pg_bin(tool: str) -> str:
    """Path of a PostgreSQL server tool, newest major version first."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(Path(folder) / tool, os.X_OK):
            return str(Path(folder) / tool)
    found = shutil.which(tool)
    if found:
        return found
    raise RuntimeError(
        f"PostgreSQL's `{tool}` was not found (looked in /usr/lib/postgresql/*/bin and "
        "PATH): run `make test` (scripts/ensure_postgres.sh installs it as root) or "
        "`apt-get install -y postgresql`"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    password: str
    run_as: str | None  # the OS user the server runs as (None: ourselves)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            for p in (self.root, pwfile):
                os.chown(p, user.pw_uid, user.pw_gid)
        init = self._run(
            pg_bin("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-host=scram-sha-256",  # password over TCP, as BI tools connect
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c max_connections=60"
        )
        started = self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if started.returncode:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()}\n{log}")

    def stop(self) -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    run_as = SERVER_USER if os.geteuid() == 0 else None
    if run_as:
        try:
            pwd.getpwnam(run_as)
        except KeyError:
            raise RuntimeError(
                "running as root, and there is no `postgres` user to run initdb as "
                "(initdb refuses root): install the postgresql package, which creates it"
            ) from None
    root = Path(tempfile.mkdtemp(prefix="cjm-pg-"))
    server = PostgresServer(root, _free_port(), secrets.token_hex(12), run_as)
    try:
        server.start()
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server
