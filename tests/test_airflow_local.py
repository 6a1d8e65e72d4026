"""`make airflow` (python -m cjm.airflow_env serve) as a new user runs it.

One short start of the real components (api-server, scheduler, dag-processor,
triggerer; LocalExecutor, SQLite) with a PATH that does not hold the venv, as when the
venv is not activated: the API answers on 127.0.0.1, no process of the tree listens
on any other address, and SIGTERM stops every component.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cjm.airflow_env import LOCAL_COMPONENTS, airflow_env, descendants, free_port, server_env

START_TIMEOUT = 300


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    return inodes


def _listening() -> dict[str, tuple[str, int]]:
    """inode -> (address, port) of every listening TCP socket (IPv4 and IPv6)."""
    out = {}
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            addr, port = fields[1].split(":")
            if v6:
                address = "::" if set(addr) == {"0"} else addr
                if addr == "00000000000000000000000001000000":
                    address = "::1"
            else:
                address = ".".join(str(b) for b in reversed(bytes.fromhex(addr)))
            out[fields[9]] = (address, int(port, 16))
    return out


def test_server_env_binds_loopback_and_sizes_parallelism(tmp_path: Path) -> None:
    env = server_env(airflow_env(tmp_path), api_port=8765)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8765/execution/"
    assert env["AIRFLOW__CORE__PARALLELISM"] == str(os.cpu_count())
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert str(Path(sys.executable).parent) in env["PATH"].split(os.pathsep)
    # the log servers would bind every interface: the components that have one skip it
    for name in ("scheduler", "triggerer"):
        assert "--skip-serve-logs" in LOCAL_COMPONENTS[name], name
    assert set(LOCAL_COMPONENTS) == {"api-server", "scheduler", "dag-processor", "triggerer"}


@pytest.mark.integration
def test_make_airflow_serves_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(PATH="/usr/bin:/bin", CJM_CUSTOMER_KEY_SECRET="test")
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cjm.airflow_env",
            "serve",
            "--home",
            str(tmp_path / "home"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    logs = tmp_path / "home" / "component_logs"

    def diagnostics() -> str:
        parts = [(tmp_path / "serve.log").read_text(errors="replace")[-3000:]]
        for f in sorted(logs.glob("*.log")) if logs.exists() else []:
            parts.append(
                f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-20:])
            )
        return "\n".join(parts)

    tree: set[int] = set()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
                with urllib.request.urlopen(url, timeout=5) as resp:
                    health = json.loads(resp.read())
                parts = ("scheduler", "triggerer", "dag_processor")
                if all(health[c]["status"] == "healthy" for c in parts):
                    break
            except Exception:
                pass
            time.sleep(2)
        assert proc.poll() is None, f"serve exited {proc.returncode}\n{diagnostics()}"
        assert health is not None, f"no answer on 127.0.0.1:{port}\n{diagnostics()}"
        assert health["metadatabase"]["status"] == "healthy", health
        assert health["scheduler"]["status"] == "healthy", (health, diagnostics())
        assert health["triggerer"]["status"] == "healthy", (health, diagnostics())
        tree = {proc.pid} | descendants([proc.pid])
        # every component reports in (the api-server answers; the others heartbeat)
        assert health["dag_processor"]["status"] == "healthy", (health, diagnostics())
        assert len(tree) >= 1 + len(LOCAL_COMPONENTS), tree
        listening = _listening()
        ours = {listening[i] for i in _socket_inodes(tree) if i in listening}
        assert ("127.0.0.1", port) in ours, ours
        assert {addr for addr, _ in ours} == {"127.0.0.1"}, ours
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
        log.close()
    assert code == 0, diagnostics()
    left = sorted(p for p in tree - {proc.pid} if Path(f"/proc/{p}").exists())
    assert not left, [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]
