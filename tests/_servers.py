"""Start ``tinyreg serve`` (uvicorn) as a real process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from _processes import free_port, stop_process

START_TIMEOUT = 60.0


@dataclass
class TinyregServer:
    """A running ``tinyreg serve`` process."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        stop_process(self.process, timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    store: Path | str,
    log: Path,
    *,
    token: str | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    timeout: float = START_TIMEOUT,
) -> TinyregServer:
    """Run ``python -m tinyreg.registry.cli --store STORE serve`` and wait until it answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tinyreg.registry.cli",
        "--store",
        str(store),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *args,
    ]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TINYREG_")}
    if "TINYREG_SEED_DIR" in os.environ:
        environment["TINYREG_SEED_DIR"] = os.environ["TINYREG_SEED_DIR"]
    if token is not None:
        environment["TINYREG_TOKEN"] = token
    environment.update(env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment)
    server = TinyregServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tinyreg serve exited:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/.well-known/wot", timeout=2).status_code < 500:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"tinyreg serve did not start:\n{server.output()}")
