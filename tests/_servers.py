"""Real servers the tests start on free loopback ports: `tinyreg serve` (uvicorn) and Virtuoso."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from _processes import free_port, stop_process

from tinyreg.core.stores import SparqlEndpointStore

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


# ----------------------------------------------------------------------------- Virtuoso

VIRTUOSO_BINARY = "/usr/bin/virtuoso-t"
ISQL_BINARY = "/usr/bin/isql-vt"
VIRTUOSO_START_TIMEOUT = 90.0

# Loopback only, small buffers (the machine is shared), and the two SPARQL limits that
# would otherwise cut answers silently: ResultSetMaxRows (10,000 rows by default) and
# MaxQueryExecutionTime ("anytime" queries return partial results when it expires).
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 1
CheckpointInterval = 60
DirsAllowed = .
CaseMode = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


@dataclass
class VirtuosoServer:
    """A running Virtuoso open source server; ``url`` is its SPARQL endpoint."""

    url: str
    directory: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop_process(self.process, timeout=20)

    def output(self) -> str:
        return (self.directory / "server.log").read_text(errors="replace")


def launch_virtuoso(directory: Path, timeout: float = VIRTUOSO_START_TIMEOUT) -> VirtuosoServer:
    """Start ``virtuoso-t`` on free loopback ports with a new database in ``directory``.

    SPARQL Update over HTTP is granted to the anonymous ``SPARQL`` user through ``isql-vt``
    (the server's SQL port is on loopback only). Fails loudly when Virtuoso is missing.
    """
    assert Path(VIRTUOSO_BINARY).is_file() and Path(ISQL_BINARY).is_file(), (
        "Virtuoso is not installed: the store contract and replica tests need it "
        "(run `bash scripts/setup.sh test`, which installs the Debian package "
        "virtuoso-opensource)"
    )
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=directory, sql_port=sql_port, http_port=http_port))
    with (directory / "server.log").open("wb") as out:
        process = subprocess.Popen(
            [VIRTUOSO_BINARY, "+foreground", "+configfile", str(ini)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    server = VirtuosoServer(f"http://127.0.0.1:{http_port}/sparql", directory, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"virtuoso-t exited:\n{server.output()}")
        try:
            answer = httpx.get(server.url, params={"query": "ASK {}"}, timeout=2)
            if answer.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        server.stop()
        raise RuntimeError(f"Virtuoso did not start within {timeout} s:\n{server.output()}")
    grant = subprocess.run(
        [
            ISQL_BINARY,
            f"127.0.0.1:{sql_port}",
            "dba",
            "dba",
            'exec=GRANT SPARQL_UPDATE TO "SPARQL";',
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if grant.returncode != 0 or "Error" in grant.stdout + grant.stderr:
        server.stop()
        raise RuntimeError(f"GRANT SPARQL_UPDATE failed:\n{grant.stdout}{grant.stderr}")
    return server


def clear_endpoint(store: SparqlEndpointStore) -> None:
    """Empty a shared endpoint: ``DROP ALL`` on Oxigraph; on Virtuoso, tinyreg's graphs only
    (``DROP ALL`` would drop the graphs Virtuoso keeps for itself)."""
    if store.is_virtuoso:
        for name in store.graph_names():
            store.update(f"DROP SILENT GRAPH <{name}>")
    else:
        store.update("DROP ALL")
