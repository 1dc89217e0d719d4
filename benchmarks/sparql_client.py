"""tinyreg's SPARQL endpoint store against SPARQLWrapper, on real servers.

Usage::

    .venv/bin/python benchmarks/sparql_client.py            # oxigraph serve and Virtuoso
    .venv/bin/python benchmarks/sparql_client.py --small 50 --large 2

What runs: a real ``oxigraph serve`` and a real Virtuoso open source (``virtuoso-t``),
each on a free loopback port with a new database holding one graph of 10,000 triples
(``<s_i> <value> i``). Against each server, two clients ask the same queries and return
what the store contract returns (rdflib terms, one dict a row):

* ``store``: :class:`tinyreg.core.stores.SparqlEndpointStore` (``requests`` session with
  keep-alive, answers parsed by pyoxigraph);
* ``wrapper``: SPARQLWrapper 2.0 (``POST``, JSON results, ``urllib`` without keep-alive),
  its JSON bindings turned into the same rdflib terms.

Queries: a one-row ``SELECT`` (``--small`` times; median and p95 per query) and the
10,000-row ``SELECT`` of the whole graph (``--large`` times; median). The baseline is the
same one-row query sent by a bare ``requests`` session with no parsing at all: the cost of
the server and the HTTP exchange, which neither client can go below. Figures are wall
times on this machine (2 shared cores): other load shifts them by several percent; compare
the clients within one run only.

The last line of stdout is one JSON object (keys in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from _processes import free_port, stop_process  # noqa: E402
from _servers import launch_virtuoso  # noqa: E402

from tinyreg.core.stores import SparqlEndpointStore  # noqa: E402

SMALL = "SELECT ?o WHERE { <http://example.org/s42> <http://example.org/value> ?o }"
LARGE = "SELECT ?s ?o WHERE { ?s <http://example.org/value> ?o }"
TRIPLES = 10_000


def start_oxigraph(directory: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """``oxigraph serve --union-default-graph`` on a free port; its base URL."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "serve",
            "--location",
            str(directory),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/query", params={"query": "ASK {}"}, timeout=2).ok:
                return url, process
        except requests.RequestException:
            time.sleep(0.05)
    stop_process(process)
    raise RuntimeError("oxigraph serve did not start")


def term(binding: dict[str, str]) -> Node:
    """A SPARQL JSON results term as an rdflib term (as the store returns them)."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in binding:
        return Literal(value, lang=binding["xml:lang"])
    datatype = binding.get("datatype")
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(value, datatype=URIRef(datatype))
    return Literal(value)


def wrapper_client(query_url: str) -> Callable[[str], list[dict[str, Node]]]:
    """SPARQLWrapper asking ``query_url``; rows as rdflib terms."""
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    def select(query: str) -> list[dict[str, Node]]:
        client = SPARQLWrapper(query_url)
        client.setMethod(POST)
        client.setReturnFormat(JSON)
        client.setQuery(query)
        answer: Any = client.query().convert()
        return [
            {name: term(value) for name, value in row.items()}
            for row in answer["results"]["bindings"]
        ]

    return select


def timed(call: Callable[[], object], times: int) -> list[float]:
    """Wall times of ``times`` calls, in milliseconds."""
    found = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        found.append((time.perf_counter() - start) * 1000)
    return found


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def measure(name: str, store: SparqlEndpointStore, small: int, large: int) -> dict[str, float]:
    """Both clients and the baseline against one server, after loading the data."""
    graph = Graph()
    for i in range(TRIPLES):
        graph.add(
            (URIRef(f"http://example.org/s{i}"), URIRef("http://example.org/value"), Literal(i))
        )
    store.replace_graph("http://example.org/bench", graph)
    wrapper = wrapper_client(store.query_url)
    bare = requests.Session()

    def baseline() -> None:
        bare.post(
            store.query_url,
            data={"query": SMALL},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        ).raise_for_status()

    # same answers first: the comparison is between equal results
    assert store.select(SMALL) == wrapper(SMALL) == [{"o": Literal(42)}]
    rows = store.select(LARGE)
    assert len(rows) == TRIPLES and sorted(map(str, rows)) == sorted(map(str, wrapper(LARGE)))
    results: dict[str, float] = {}
    for label, call in (
        ("baseline", baseline),
        ("store", lambda: store.select(SMALL)),
        ("wrapper", lambda: wrapper(SMALL)),
    ):
        times = timed(call, small)
        results[f"{name}_{label}_small_p50_ms"] = round(statistics.median(times), 3)
        results[f"{name}_{label}_small_p95_ms"] = round(p95(times), 3)
    for label, call in (
        ("store", lambda: store.select(LARGE)),
        ("wrapper", lambda: wrapper(LARGE)),
    ):
        times = timed(call, large)
        results[f"{name}_{label}_large_p50_ms"] = round(statistics.median(times), 1)
    for key, value in results.items():
        print(f"{key:40s} {value}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=200, help="one-row queries per client")
    parser.add_argument("--large", type=int, default=5, help="10,000-row queries per client")
    args = parser.parse_args()
    import SPARQLWrapper

    results: dict[str, Any] = {"sparqlwrapper_version": SPARQLWrapper.__version__}
    with tempfile.TemporaryDirectory(prefix="tinyreg-sparql-bench-") as work:
        url, process = start_oxigraph(Path(work) / "oxigraph")
        try:
            with SparqlEndpointStore(url) as store:
                results |= measure("oxigraph", store, args.small, args.large)
        finally:
            stop_process(process)
        virtuoso = launch_virtuoso(Path(work) / "virtuoso")
        try:
            with SparqlEndpointStore(virtuoso.url) as store:
                results |= measure("virtuoso", store, args.small, args.large)
        finally:
            virtuoso.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
