"""Helpers for the real local servers the tests start: free ports and clean stops."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Stop a server process: SIGTERM, then SIGKILL if it is still there after ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def run_cli(store: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``tinyreg ARGS`` in a new process on the store ``store``; output as text."""
    env = {**os.environ, "TINYREG_STORE": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "tinyreg.registry.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
