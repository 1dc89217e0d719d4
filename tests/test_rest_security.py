"""Attacks on a real ``tinyreg serve`` (uvicorn on loopback), as an outsider would make them.

SPARQL federation (server-side request forgery), runaway queries, expensive report
rebuilds, writes aimed at internal graphs, input that used to fail after writing, and the
SPARQL Protocol's content negotiation. See ``docs/security.md``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from _servers import TinyregServer, start_server

from _paths import KG_DATA
from tinyreg.registry.rest import Settings

TOKEN = "security-token-5c1e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TD_JSON = {"Content-Type": "application/td+json", **AUTH}
TIMEOUT_S = 4.0
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CHEAP = "ASK { ?s a owl:Class }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyregServer]:
    root = tmp_path_factory.mktemp("rest-security")
    running = start_server(
        root / "store",
        root / "server.log",
        token=TOKEN,
        env={
            "TINYREG_SPARQL_TIMEOUT_S": str(TIMEOUT_S),
            "TINYREG_REPORT_REFRESH_INTERVAL_S": "600",
            "TINYREG_SPARQL_MAX_ROWS": "1000",
        },
    )
    try:
        deadline = time.monotonic() + 60  # the query workers start after the server
        while time.monotonic() < deadline:
            answer = httpx.get(f"{running.base_url}/search/sparql", params={"query": CHEAP})
            if answer.status_code == 200:
                break
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server: TinyregServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        yield http


def other_client(server: TinyregServer) -> httpx.Client:
    """A client from another loopback address (another client for the server)."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    return httpx.Client(base_url=server.base_url, timeout=60, transport=transport)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.text
    return body


def td_of(name: str) -> dict[str, Any]:
    return json.loads((KG_DATA / "devices" / f"{name}.td.jsonld").read_text())


class Listener:
    """A TCP port on loopback that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


# ------------------------------------------------------------------ SPARQL federation


def test_service_clauses_are_refused_and_nothing_is_sent(
    server: TinyregServer, client: httpx.Client
) -> None:
    listener = Listener()
    target = f"http://127.0.0.1:{listener.port}/sparql"
    try:
        for query in (
            f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
            "select * where { ?x ?y ?z OPTIONAL { service silent <" + target + "> { ?s ?p ?o } } }",
            f"PREFIX e: <http://127.0.0.1:{listener.port}/> "
            "SELECT * { SERVICE e:sparql { ?s ?p ?o } }",
            f"SELECT * {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }}",
            f"SELECT * {{ {{ SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
            "SELECT * { VALUES ?e { <" + target + "> } SERVICE ?e { ?s ?p ?o } }",
            f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }}",  # broken, still refused
        ):
            for answer in (
                client.get("/search/sparql", params={"query": query}),
                client.post("/search/sparql", data={"query": query}),
            ):
                body = assert_problem(answer, 400)
                assert body["title"] == "Federated query refused", query
        # the word in a string, an IRI, a variable or a comment is no SERVICE clause
        harmless = (
            "SELECT ?service WHERE { ?service rdfs:label 'SERVICE <http://x/>' } "
            "# SERVICE <http://y/>"
        )
        assert client.get("/search/sparql", params={"query": harmless}).status_code == 200
        time.sleep(0.5)
        assert listener.connections == 0
    finally:
        listener.close()


def test_query_errors_name_the_users_line_and_no_internals(
    server: TinyregServer, client: httpx.Client
) -> None:
    body = assert_problem(
        client.get("/search/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o FILTER( }"}), 400
    )
    assert " at 1:" in body["detail"], body["detail"]
    multi = "SELECT *\nWHERE {\n  ?s ?p ?o\n  FILTER( }"
    body = assert_problem(client.get("/search/sparql", params={"query": multi}), 400)
    assert " at 4:" in body["detail"], body["detail"]
    unknown = "SELECT * WHERE { ?s foo:bar ?o }"
    body = assert_problem(client.get("/search/sparql", params={"query": unknown}), 400)
    assert "unknown prefix 'foo:'" in body["detail"] and " at 1:" in body["detail"]
    assert len(body["detail"]) < 200 and "u{" not in body["detail"]
    # no answer names the store's directory
    store = str(server.log.parent / "store")
    for query in (unknown, multi, "SELECT nonsense", CHEAP):
        assert store not in client.get("/search/sparql", params={"query": query}).text


def test_sparql_results_follow_accept(client: httpx.Client) -> None:
    select = "SELECT ?c ?l WHERE { ?c a owl:Class ; rdfs:label ?l } ORDER BY ?c LIMIT 3"
    as_json = client.get("/search/sparql", params={"query": select}).json()
    rows = as_json["results"]["bindings"]
    assert len(rows) == 3
    csv = client.get("/search/sparql", params={"query": select}, headers={"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "c,l" and lines[1].startswith(rows[0]["c"]["value"] + ",")
    tsv = client.get(
        "/search/sparql",
        params={"query": select},
        headers={"Accept": "text/tab-separated-values"},
    )
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert tsv.text.splitlines()[0] == "?c\t?l"
    assert tsv.text.splitlines()[1].startswith(f"<{rows[0]['c']['value']}>\t")
    xml = client.get(
        "/search/sparql",
        params={"query": select},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml.text)
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert [v.get("name") for v in root.iter(f"{ns}variable")] == ["c", "l"]
    assert len(list(root.iter(f"{ns}result"))) == 3
    ask = client.get(
        "/search/sparql",
        params={"query": CHEAP},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert "<boolean>true</boolean>" in ask.text
    assert_problem(
        client.get("/search/sparql", params={"query": select}, headers={"Accept": "image/png"}),
        406,
    )
    assert_problem(
        client.get("/search/sparql", params={"query": CHEAP}, headers={"Accept": "text/csv"}), 406
    )


# ------------------------------------------------------------------ runaway queries


def test_default_query_timeout_is_at_most_ten_seconds() -> None:
    assert Settings().sparql_timeout_s <= 10


def test_runaway_queries_are_stopped_and_others_still_answered(
    server: TinyregServer, client: httpx.Client
) -> None:
    def runaway(_: int) -> tuple[int, float]:
        start = time.monotonic()
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            answer = http.get("/search/sparql", params={"query": CARTESIAN})
        return answer.status_code, time.monotonic() - start

    with ThreadPoolExecutor(3) as threads, other_client(server) as other:
        started = time.monotonic()
        runaways = [threads.submit(runaway, i) for i in range(3)]
        time.sleep(0.5)
        # another client is answered while the runaway queries run
        while time.monotonic() - started < TIMEOUT_S:
            t0 = time.monotonic()
            answer = other.get("/search/sparql", params={"query": CHEAP})
            assert answer.status_code == 200, answer.text
            assert time.monotonic() - t0 < 5
            assert other.get("/.well-known/wot").status_code == 200
            time.sleep(0.3)
        outcomes = [r.result() for r in runaways]
    assert [status for status, _ in outcomes] == [503, 503, 503]
    assert all(seconds < TIMEOUT_S + 3 for _, seconds in outcomes), outcomes
    # the same client, once its runaway queries have timed out, is answered at once
    t0 = time.monotonic()
    answer = client.get("/search/sparql", params={"query": CHEAP})
    assert answer.status_code == 200 and answer.json()["boolean"] is True
    assert time.monotonic() - t0 < 5
    # and the work really stopped: no process of the server still spins
    time.sleep(1)
    assert _busy_children(server) == []


def test_a_query_answer_is_bounded_and_pages_are_served(client: httpx.Client) -> None:
    everything = "SELECT * WHERE { ?s ?p ?o }"
    total = client.get("/search/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert int(total.json()["results"]["bindings"][0]["n"]["value"]) > 1000
    for query in (everything, "CONSTRUCT WHERE { ?s ?p ?o }"):
        body = assert_problem(client.get("/search/sparql", params={"query": query}), 400)
        assert "more than 1,000 rows" in body["detail"] and "LIMIT" in body["detail"], body
    page = client.get("/search/sparql", params={"query": everything + " LIMIT 1000 OFFSET 5"})
    assert page.status_code == 200
    assert len(page.json()["results"]["bindings"]) == 1000
    assert client.get("/search/sparql", params={"query": CHEAP}).status_code == 200


def _busy_children(server: TinyregServer) -> list[int]:
    """Child processes of the server that used CPU over the last half second."""
    root = server.process.pid

    def children() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == root:
                    found.append(int(entry.name))
        return found

    def cpu(pid: int) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])

    before = {pid: cpu(pid) for pid in children()}
    time.sleep(0.5)
    return [pid for pid, ticks in before.items() if cpu(pid) - ticks > 20]


# ------------------------------------------------------------------ expensive routes


def test_report_rebuilds_need_the_token_and_are_single_flight(
    server: TinyregServer, client: httpx.Client
) -> None:
    td = td_of("esp-eye")
    assert client.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON).is_success
    first = client.get("/reports/latest", headers={"Accept": "application/json"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    # anonymous refreshes are served the cached report: no rebuild
    for _ in range(3):
        again = client.get("/reports/latest", params={"refresh": "true"})
        assert again.status_code == 200 and again.headers["etag"] == etag

    # concurrent refreshes with the token share one build; cheap routes answer meanwhile
    def refresh(_: int) -> str:
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            answer = http.get("/reports/latest", params={"refresh": "true"}, headers=AUTH)
        assert answer.status_code == 200
        return answer.headers["etag"]

    with ThreadPoolExecutor(6) as threads:
        builds = [threads.submit(refresh, i) for i in range(6)]
        slowest = 0.0
        while not all(b.done() for b in builds):
            for path in ("/.well-known/wot", f"/things/{td['id']}"):
                t0 = time.monotonic()
                assert client.get(path).status_code == 200
                slowest = max(slowest, time.monotonic() - t0)
            time.sleep(0.05)
        etags = {b.result() for b in builds}
    # the refreshes shared builds: one build, or more when a request only arrived after a
    # build had finished (a refresh then rightly writes a new one; under load the six
    # requests can reach the server spread over more than one build)
    assert len(etags) < len(builds) and etag not in etags
    assert slowest < 3, slowest
    assert client.delete(f"/things/{td['id']}", headers=AUTH).status_code == 204


# ------------------------------------------------------------------ identifier spaces


def lamp(ident: str) -> dict[str, Any]:
    """A plain WoT Thing (no device terms) with the given id."""
    return {
        "@context": "https://www.w3.org/2022/wot/td/v1.1",
        "id": ident,
        "title": "Lamp",
        "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
        "security": "nosec_sc",
        "properties": {"on": {"type": "boolean", "forms": [{"href": "https://lamp.example/on"}]}},
    }


def shown_record(shown: dict[str, Any]) -> dict[str, Any]:
    """``GET /models/{id}`` without the tensors: the record ``POST /models`` answers."""
    return {k: v for k, v in shown.items() if k not in ("inputs", "outputs")}


def count_triples(client: httpx.Client, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    answer = client.get("/search/sparql", params={"query": query})
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def add_model(
    client: httpx.Client, ident: str | None = None, *, replace: bool = False
) -> httpx.Response:
    model = KG_DATA / "models" / "gesture-cnn-int8.tflite"
    files = {"file": (model.name, model.read_bytes(), "application/octet-stream")}
    data = {"id": ident} if ident is not None else {}
    params = {"replace": "true"} if replace else {}
    return client.post("/models", files=files, data=data, params=params, headers=AUTH)


def test_things_cannot_take_internal_graph_names(client: httpx.Client) -> None:
    from tinyreg.registry.directory import STATE_GRAPH
    from tinyreg.registry.reference import ONTOLOGY_IRI

    added = add_model(client, "guarded-model", replace=True)
    assert added.status_code == 201, added.text
    model = added.json()
    ontology = count_triples(client, str(ONTOLOGY_IRI))
    assert ontology > 100
    things = client.get("/things").json()
    etag = client.get("/things").headers["etag"]
    for ident in (
        model["iri"],
        str(ONTOLOGY_IRI),
        STATE_GRAPH,
        "urn:tinyreg:profile:whatever",
        "HTTPS://W3ID.ORG/tinyreg/model/guarded-model",
    ):
        answer = client.put(f"/things/{ident}", content=json.dumps(lamp(ident)), headers=TD_JSON)
        body = assert_problem(answer, 400)
        assert body["validationErrors"][0]["field"] == "/id", body
        assert_problem(client.delete(f"/things/{ident}", headers=AUTH), 404)
    assert shown_record(client.get(f"/models/{model['id']}").json()) == model
    assert count_triples(client, str(ONTOLOGY_IRI)) == ontology
    assert client.get("/things").json() == things
    assert client.get("/things").headers["etag"] == etag
    assert client.delete(f"/models/{model['id']}", headers=AUTH).status_code == 204


def test_model_ids_are_slugs_and_replacing_is_explicit(client: httpx.Client) -> None:
    before = client.get("/models").json()
    for ident in ("../../x", "a/b", "UPPER", "x" * 200, "-lead", "a..b", "ünï"):
        body = assert_problem(add_model(client, ident), 400)
        assert body["field"] == "id"
    assert client.get("/models").json() == before
    first = add_model(client, "replace-me")
    assert first.status_code == 201, first.text
    again = assert_problem(add_model(client, "replace-me"), 409)
    assert "replace=true" in again["detail"]
    assert shown_record(client.get("/models/replace-me").json()) == first.json()
    assert add_model(client, "replace-me", replace=True).status_code == 201
    assert client.delete("/models/replace-me", headers=AUTH).status_code == 204
    assert client.get("/models").json() == before


# ------------------------------------------------------------------ refused before writing


def test_inputs_that_used_to_fail_after_writing(client: httpx.Client) -> None:
    etag = client.get("/things").headers["etag"]
    # a Unicode id is a valid IRI: created, with a Location a client can follow
    unicode_id = "urn:dev:lampe-éclairée-☃"
    created = client.put(
        f"/things/{unicode_id}", content=json.dumps(lamp(unicode_id)), headers=TD_JSON
    )
    assert created.status_code == 201, created.text
    followed = client.get(created.headers["location"])
    assert followed.status_code == 200 and followed.json()["id"] == unicode_id
    anonymous = lamp("x")
    del anonymous["id"]
    posted = client.post("/things", content=json.dumps(anonymous), headers=TD_JSON)
    assert posted.status_code == 201
    assert client.delete(posted.headers["location"], headers=AUTH).status_code == 204
    assert client.delete(f"/things/{unicode_id}", headers=AUTH).status_code == 204
    etag = client.get("/things").headers["etag"]

    def refused(ident: str, raw: str) -> None:
        answer = client.put(f"/things/{ident}", content=raw.encode(), headers=TD_JSON)
        assert_problem(answer, 400)
        assert_problem(client.get(f"/things/{ident}"), 404)
        patched = client.patch(
            "/things/urn:dev:absent",
            content=raw.encode(),
            headers={"Content-Type": "application/merge-patch+json", **AUTH},
        )
        assert patched.status_code in (400, 404), patched.text

    base = json.dumps(lamp("urn:dev:deep"))
    deep = base[:-1] + ', "nested": ' + "[" * 50_000 + "]" * 50_000 + "}"
    refused("urn:dev:deep", deep)
    for number in ("9" * 5000, "1e400", "-1e999", "NaN", "Infinity", "0." + "1" * 5000):
        body = json.dumps(lamp("urn:dev:number"))[:-1] + f', "n": {number}}}'
        refused("urn:dev:number", body)
    assert client.get("/things").headers["etag"] == etag


# ------------------------------------------------------------------ large TDs


def test_a_large_td_is_stored_whole(client: httpx.Client) -> None:
    """Thousands of affordances: stored and served back exactly (timing: docs/security.md)."""
    ident = "urn:dev:large"
    td = lamp(ident)
    td["properties"] = {
        f"p{i}": {"type": "integer", "forms": [{"href": f"https://large.example/{i}"}]}
        for i in range(3000)
    }
    td["actions"] = {
        f"a{i}": {"forms": [{"href": f"https://large.example/a{i}"}]} for i in range(70)
    }
    created = client.put(f"/things/{ident}", content=json.dumps(td), headers=TD_JSON)
    assert created.status_code == 201, created.text
    served = client.get(f"/things/{ident}").json()
    del served["registration"]
    assert served == td
    count = "SELECT (COUNT(?p) AS ?n) WHERE { <urn:dev:large> td:hasPropertyAffordance ?p }"
    rows = client.get("/search/sparql", params={"query": count}).json()["results"]["bindings"]
    assert rows[0]["n"]["value"] == "3000"
    forms = (
        "SELECT (COUNT(?f) AS ?n) WHERE { <urn:dev:large> td:hasPropertyAffordance ?p ."
        " ?p td:hasForm ?f }"
    )
    rows = client.get("/search/sparql", params={"query": forms}).json()["results"]["bindings"]
    assert rows[0]["n"]["value"] == "3000"
    assert client.delete(f"/things/{ident}", headers=AUTH).status_code == 204


# ------------------------------------------------------------------ the token


def test_token_file_and_the_warning_on_token(tmp_path: Path) -> None:
    import subprocess
    import sys

    helped = subprocess.run(
        [sys.executable, "-m", "tinyreg.registry.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--token-file" in helped.stdout and "ps" in helped.stdout
    secret = tmp_path / "token"
    secret.write_text("from-a-file-91b2\n")
    running = start_server(tmp_path / "store", tmp_path / "log", args=("--token-file", str(secret)))
    try:
        with httpx.Client(base_url=running.base_url, timeout=60) as http:
            td = lamp("urn:dev:token-file")
            body = json.dumps(td)
            media = {"Content-Type": "application/td+json"}
            assert_problem(http.put(f"/things/{td['id']}", content=body, headers=media), 401)
            good = {**media, "Authorization": "Bearer from-a-file-91b2"}
            assert http.put(f"/things/{td['id']}", content=body, headers=good).status_code == 201
        assert "from-a-file-91b2" not in Path(f"/proc/{running.process.pid}/cmdline").read_text()
    finally:
        running.stop()
