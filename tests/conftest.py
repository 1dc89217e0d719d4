"""Shared pytest fixtures of the tinyreg test suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from _mosquitto import Mosquitto
from _processes import free_port, stop_process
from _servers import clear_endpoint, launch_virtuoso

from tinyreg.core.stores import GraphStore, OxigraphStore, SparqlEndpointStore

# =============================================================================
# Graph stores (tinyreg.core.stores)
#
# * ``oxigraph_server``          session-wide real ``oxigraph serve`` (base URL)
# * ``start_oxigraph_server``    starts extra servers, stopped after the test
# * ``virtuoso_server``          session-wide real Virtuoso open source (SPARQL URL)
# * ``store``                    a fresh, empty store per test, parametrised
#                                over "oxigraph" (embedded), "sparql" (``oxigraph
#                                serve`` over HTTP) and "virtuoso" (HTTP)
#
# The servers are the real Oxigraph CLI and the Debian package's Virtuoso. They are
# never skipped: when one is missing the tests fail and say how to install it.
# =============================================================================

STORE_KINDS = ["oxigraph", "sparql", "virtuoso"]
SERVER_START_TIMEOUT = 30.0


def find_oxigraph_binary() -> str:
    """Locate the ``oxigraph`` server binary, or fail the test run loudly.

    ``$OXIGRAPH_BIN`` wins when set; otherwise ``PATH``, then the directory of
    the Python interpreter (a virtual environment's ``bin``).
    """
    explicit = os.environ.get("OXIGRAPH_BIN")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        pytest.fail(f"$OXIGRAPH_BIN={explicit!r} is not an executable file", pytrace=False)
    for candidate in (shutil.which("oxigraph"), str(Path(sys.executable).with_name("oxigraph"))):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "the `oxigraph` server binary was not found (set $OXIGRAPH_BIN, or put it on PATH or "
        f"next to {sys.executable}). The SPARQL endpoint tests need a real server: install it "
        "with `pip install 'oxigraph>=0.5,<0.6'` (part of the `test` extra).",
        pytrace=False,
    )


@dataclass
class OxigraphServer:
    """A running ``oxigraph serve`` process.

    Attributes:
        base_url: ``http://127.0.0.1:<port>``.
        location: The store directory of the server.
        process: The server process.
        log: The file receiving the server's output.
    """

    base_url: str
    location: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        stop_process(self.process)


def launch_oxigraph_server(location: Path, extra: Sequence[str] = ()) -> OxigraphServer:
    """Start ``oxigraph serve --union-default-graph`` (and ``extra``) on a free loopback port.

    Waits until the server answers a query; fails the test with the server's
    output if it does not start.
    """
    binary = find_oxigraph_binary()
    location.mkdir(parents=True, exist_ok=True)
    log = location.parent / f"{location.name}.server.log"
    last_output = ""
    for _attempt in range(3):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    binary,
                    "serve",
                    "--location",
                    str(location),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--union-default-graph",
                    *extra,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = OxigraphServer(base_url, location, process, log)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            try:
                answer = requests.get(f"{base_url}/query", params={"query": "ASK {}"}, timeout=2)
                if answer.status_code == 200:
                    return server
            except requests.RequestException:
                pass
            time.sleep(0.05)
        server.stop()
        last_output = log.read_text(errors="replace")
    pytest.fail(f"`oxigraph serve` did not start:\n{last_output}", pytrace=False)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve`` shared by the session; yields its base URL."""
    server = launch_oxigraph_server(tmp_path_factory.mktemp("oxigraph-server") / "db")
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Virtuoso shared by the session; yields its SPARQL endpoint URL."""
    server = launch_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def start_oxigraph_server(tmp_path: Path) -> Iterator[Callable[..., OxigraphServer]]:
    """Start private ``oxigraph serve`` processes; all are stopped after the test."""
    servers: list[OxigraphServer] = []

    def start(*extra: str) -> OxigraphServer:
        server = launch_oxigraph_server(tmp_path / f"server-{len(servers)}", extra)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """A fresh, empty store: embedded in ``tmp_path``, or the shared server cleared."""
    opened: GraphStore
    if request.param == "oxigraph":
        opened = OxigraphStore(tmp_path / "store")
    else:
        server = "oxigraph_server" if request.param == "sparql" else "virtuoso_server"
        endpoint = SparqlEndpointStore(request.getfixturevalue(server))
        clear_endpoint(endpoint)
        opened = endpoint
    try:
        yield opened
    finally:
        opened.close()


# =============================================================================
# (other fixtures go below this line)
# =============================================================================


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A real mosquitto on loopback, one per test module (anonymous, as the demo's)."""
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield server
    server.stop()
