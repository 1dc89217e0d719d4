"""The REST directory through real HTTP on a real ``tinyreg serve`` (uvicorn) process."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from _servers import TinyregServer, start_server
from jsonschema import Draft7Validator

from _paths import KG_DATA
from tinyreg.registry import Registry, match_dict
from tinyreg.registry.rest import default_td_schema_path

TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TD_JSON = {"Content-Type": "application/td+json", **AUTH}
DEVICES = sorted((KG_DATA / "devices").glob("*.td.jsonld"))


def merge_patch(client: httpx.Client, ident: str, patch: dict[str, Any]) -> httpx.Response:
    """PATCH a TD with a JSON Merge Patch, with the write token."""
    return client.patch(
        f"/things/{ident}",
        content=json.dumps(patch),
        headers={"Content-Type": "application/merge-patch+json", **AUTH},
    )


def td_of(name: str) -> dict[str, Any]:
    return json.loads((KG_DATA / "devices" / f"{name}.td.jsonld").read_text())


def lamp_td() -> dict[str, Any]:
    """A generic WoT Thing with no tinyreg device terms, valid against the TD 1.1 schema."""
    return {
        "@context": "https://www.w3.org/2022/wot/td/v1.1",
        "id": "urn:dev:ops:32473-WoTLamp-1234",
        "title": "MyLampThing",
        "description": "A dimmable lamp with an overheating alarm.",
        "securityDefinitions": {"basic_sc": {"scheme": "basic", "in": "header"}},
        "security": "basic_sc",
        "properties": {
            "status": {
                "type": "string",
                "enum": ["on", "off"],
                "readOnly": True,
                "forms": [
                    {"href": "https://mylamp.example.com/status", "contentType": "application/json"}
                ],
            }
        },
        "actions": {
            "toggle": {"forms": [{"href": "https://mylamp.example.com/toggle"}]},
            "fade": {
                "input": {
                    "type": "object",
                    "properties": {
                        "level": {"type": "integer", "minimum": 0, "maximum": 100},
                        "durationMs": {"type": "integer", "minimum": 0},
                    },
                    "required": ["level"],
                },
                "forms": [{"href": "https://mylamp.example.com/fade"}],
            },
        },
        "events": {
            "overheating": {
                "data": {"type": "string"},
                "forms": [{"href": "https://mylamp.example.com/oh", "subprotocol": "longpoll"}],
            }
        },
    }


@pytest.fixture(scope="module")
def td_validator() -> Draft7Validator:
    path = default_td_schema_path()
    assert path.is_file(), f"{path} missing: run `bash scripts/setup.sh test`"
    return Draft7Validator(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyregServer]:
    root = tmp_path_factory.mktemp("rest-http")
    running = start_server(
        root / "store", root / "server.log", token=TOKEN, env={"TINYREG_PURGE_INTERVAL_S": "0.5"}
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server: TinyregServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        yield http


def clear(client: httpx.Client) -> None:
    for td in client.get("/things", params={"limit": 10_000}).json():
        assert client.delete(f"/things/{td['id']}", headers=AUTH).status_code == 204


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    assert "Traceback" not in response.text
    return body


def test_crud_cycle(client: httpx.Client, td_validator: Draft7Validator) -> None:
    clear(client)
    td = td_of("esp-eye")
    ident = td["id"]
    created = client.put(f"/things/{ident}", content=json.dumps(td), headers=TD_JSON)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/things/{ident}"

    got = client.get(f"/things/{ident}")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/td+json")
    served = got.json()
    registration = served.pop("registration")
    assert served == td
    assert registration["created"] == registration["modified"]
    assert not list(td_validator.iter_errors(got.json()))

    td["title"] = "ESP-EYE (renamed)"
    replaced = client.put(f"/things/{ident}", content=json.dumps(td), headers=TD_JSON)
    assert replaced.status_code == 204
    again = client.get(f"/things/{ident}").json()
    assert again["title"] == "ESP-EYE (renamed)"
    assert again["registration"]["created"] == registration["created"]
    assert again["registration"]["modified"] > registration["modified"]

    patch = {"description": "patched", "model": None}
    patched = merge_patch(client, ident, patch)
    assert patched.status_code == 204, patched.text
    after = client.get(f"/things/{ident}").json()
    assert after["description"] == "patched" and "model" not in after
    assert not list(td_validator.iter_errors(after))

    assert client.delete(f"/things/{ident}", headers=AUTH).status_code == 204
    assert_problem(client.get(f"/things/{ident}"), 404)
    assert_problem(client.delete(f"/things/{ident}", headers=AUTH), 404)


def test_anonymous_td_gets_a_uuid(client: httpx.Client, td_validator: Draft7Validator) -> None:
    td = td_of("sparkfun-edge")
    del td["id"]
    answer = client.post("/things", content=json.dumps(td), headers=TD_JSON)
    assert answer.status_code == 201, answer.text
    location = answer.headers["location"]
    assert location.startswith("/things/urn:uuid:")
    served = client.get(location).json()
    assert served["id"] == location.removeprefix("/things/")
    assert served["title"] == td["title"]
    assert not list(td_validator.iter_errors(served))
    with_id = client.post("/things", content=json.dumps(td_of("sparkfun-edge")), headers=TD_JSON)
    body = assert_problem(with_id, 400)
    assert body["validationErrors"][0]["field"] == "/id"
    # the message says what was wrong and both ways out
    description = body["validationErrors"][0]["description"]
    assert "urn:tinyreg:device:sparkfun-edge" in description
    assert "PUT /things/{id}" in description and "leave out" in description
    assert client.delete(location, headers=AUTH).status_code == 204


def test_pagination_in_id_order_with_links(
    client: httpx.Client, td_validator: Draft7Validator
) -> None:
    clear(client)
    ids = []
    for path in DEVICES:
        td = json.loads(path.read_text())
        ids.append(td["id"])
        answer = client.put(f"/things/{td['id']}", content=path.read_bytes(), headers=TD_JSON)
        assert answer.status_code == 201, answer.text
    seen: list[str] = []
    url: str | None = "/things?limit=4"
    etags = set()
    pages = 0
    while url is not None:
        answer = client.get(url)
        assert answer.status_code == 200
        page = answer.json()
        assert 1 <= len(page) <= 4
        for td in page:
            assert not list(td_validator.iter_errors(td)), td["id"]
        seen += [td["id"] for td in page]
        links = httpx.Response(200, headers=answer.headers).links
        assert links["canonical"]["url"].endswith("/things")
        etags.add(answer.headers["etag"])
        url = links.get("next", {}).get("url")
        pages += 1
    assert seen == sorted(ids)
    assert pages == -(-len(ids) // 4)
    assert len(etags) == 1  # nothing changed while paging
    offset = client.get("/things", params={"offset": 2, "limit": 3}).json()
    assert [td["id"] for td in offset] == sorted(ids)[2:5]
    # any write changes the collection's etag
    before = client.get("/things?limit=1").headers["etag"]
    assert client.delete(f"/things/{ids[0]}", headers=AUTH).status_code == 204
    assert client.get("/things?limit=1").headers["etag"] != before
    assert_problem(client.get("/things", params={"limit": 0}), 400)


def test_head_on_every_get(client: httpx.Client) -> None:
    for path in ("/things", "/.well-known/wot", "/models", "/events"):
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
    get = client.get("/things")
    assert client.head("/things").headers["etag"] == get.headers["etag"]


def test_refused_tds_are_problem_details_and_write_nothing(client: httpx.Client) -> None:
    clear(client)
    etag = client.get("/things").headers["etag"]
    no_ram = td_of("esp-eye")
    del no_ram["ram"]
    body = assert_problem(
        client.put(f"/things/{no_ram['id']}", content=json.dumps(no_ram), headers=TD_JSON), 400
    )
    assert any(
        e["field"] == "/ram" and "tr:hasRAM" in e["description"] for e in body["validationErrors"]
    )
    # every field is a JSON pointer into the TD sent, from JSON Schema and shapes alike
    nested = td_of("esp-eye")
    nested["flash"]["capacityBytes"] = -1
    nested["mcu"]["clockHz"] = 0
    nested["title"] = 7
    body = assert_problem(
        client.put(f"/things/{nested['id']}", content=json.dumps(nested), headers=TD_JSON), 400
    )
    fields = [e["field"] for e in body["validationErrors"]]
    assert "/title" in fields, body  # the JSON Schema's finding
    nested["title"] = "ESP-EYE"
    body = assert_problem(
        client.put(f"/things/{nested['id']}", content=json.dumps(nested), headers=TD_JSON), 400
    )
    fields = [e["field"] for e in body["validationErrors"]]
    assert {"/flash/capacityBytes", "/mcu/clockHz"} <= set(fields), body  # the shapes'
    for field in fields:
        resolved: Any = nested
        for part in field.split("/")[1:]:
            assert isinstance(resolved, dict | list), (field, body)
            resolved = resolved[int(part)] if isinstance(resolved, list) else resolved.get(part)
    no_security = td_of("esp-eye")
    del no_security["security"]
    body = assert_problem(
        client.put(
            f"/things/{no_security['id']}", content=json.dumps(no_security), headers=TD_JSON
        ),
        400,
    )
    assert body["validationErrors"] == [
        {"field": "/", "description": "'security' is a required property"}
    ]
    bad_form = td_of("esp-eye")
    bad_form["properties"]["image"]["forms"][0].pop("href")
    body = assert_problem(
        client.put(f"/things/{bad_form['id']}", content=json.dumps(bad_form), headers=TD_JSON), 400
    )
    assert any(e["field"].startswith("/properties/image") for e in body["validationErrors"])
    assert_problem(client.put("/things/urn:x", content=b"{not json", headers=TD_JSON), 400)
    assert_problem(
        client.put("/things/urn:x", content=b"{}", headers={"Content-Type": "text/plain", **AUTH}),
        415,
    )
    mismatch = td_of("esp-eye")
    body = assert_problem(
        client.put("/things/urn:other", content=json.dumps(mismatch), headers=TD_JSON), 400
    )
    assert body["validationErrors"][0]["field"] == "/id"
    assert client.get("/things").json() == []
    assert client.get("/things").headers["etag"] == etag


def test_generic_things_are_served_paged_and_searched_but_are_no_devices(
    server: TinyregServer, client: httpx.Client, td_validator: Draft7Validator
) -> None:
    clear(client)
    events, stop = _listen(server, "/events?diff=true")
    lamp = lamp_td()
    ident = lamp["id"]
    assert not list(td_validator.iter_errors(lamp))
    created = client.put(f"/things/{ident}", content=json.dumps(lamp), headers=TD_JSON)
    assert created.status_code == 201, created.text
    got = client.get(f"/things/{ident}")
    assert got.headers["content-type"].startswith("application/td+json")
    served = got.json()
    assert not list(td_validator.iter_errors(served))
    registration = served.pop("registration")
    assert served == lamp and registration["created"] == registration["modified"]
    pico = td_of("raspberry-pi-pico")
    assert client.put(f"/things/{pico['id']}", content=json.dumps(pico), headers=TD_JSON).is_success

    # paged with the devices, in id order, one a page
    first = client.get("/things", params={"limit": 1})
    assert [td["id"] for td in first.json()] == [ident]
    following = httpx.Response(200, headers=first.headers).links["next"]["url"]
    assert [td["id"] for td in client.get(following).json()] == [pico["id"]]

    patch = {"title": "Desk lamp", "events": None}
    patched = merge_patch(client, ident, patch)
    assert patched.status_code == 204, patched.text
    assert client.get("/things", params={"limit": 1}).headers["etag"] != first.headers["etag"]
    after = client.get(f"/things/{ident}").json()
    assert not list(td_validator.iter_errors(after))
    assert after["registration"]["created"] == registration["created"]
    del after["registration"]
    assert after == {k: v for k, v in {**lamp, "title": "Desk lamp"}.items() if k != "events"}

    # not a device: the matchmaker does not know it, the search sees a td:Thing
    assert_problem(client.get("/match/models", params={"device": ident}), 404)
    assert client.get("/match/models", params={"device": pico["id"]}).status_code == 200
    select = "SELECT ?t ?title WHERE { ?t a td:Thing ; td:title ?title } ORDER BY ?t"
    rows = client.get("/search/sparql", params={"query": select}).json()["results"]["bindings"]
    assert [(r["t"]["value"], r["title"]["value"]) for r in rows] == [
        (ident, "Desk lamp"),
        (pico["id"], pico["title"]),
    ]
    devices = "SELECT ?d WHERE { ?d a tr:Device }"
    rows = client.get("/search/sparql", params={"query": devices}).json()["results"]["bindings"]
    assert [r["d"]["value"] for r in rows] == [pico["id"]]

    assert client.delete(f"/things/{ident}", headers=AUTH).status_code == 204
    assert_problem(client.get(f"/things/{ident}"), 404)
    assert [td["id"] for td in client.get("/things").json()] == [pico["id"]]
    mine = [e for e in _collect(events, 4) if e["data"].get("id") == ident]
    stop.set()
    assert [e["type"] for e in mine] == ["thing_created", "thing_updated", "thing_deleted"]
    assert mine[1]["data"] == {"id": ident, "title": "Desk lamp", "events": None}

    # declaring the Device type makes it a device: refused without RAM, naming the field
    half_device = {
        **lamp_td(),
        "@context": ["https://www.w3.org/2022/wot/td/v1.1", "https://w3id.org/tinyreg/td/v1"],
        "@type": ["Thing", "Device"],
        "mcu": {"part": "RP2040", "core": "Cortex-M0+", "clockHz": 133000000},
        "flash": {"capacityBytes": 2097152},
    }
    assert not list(td_validator.iter_errors(half_device))
    body = assert_problem(
        client.put(f"/things/{ident}", content=json.dumps(half_device), headers=TD_JSON), 400
    )
    assert any(e["field"] == "/ram" for e in body["validationErrors"])
    assert_problem(client.get(f"/things/{ident}"), 404)


def test_writes_need_the_token(client: httpx.Client) -> None:
    td = td_of("esp-eye")
    url = f"/things/{td['id']}"
    body = json.dumps(td)
    missing = client.put(url, content=body, headers={"Content-Type": "application/td+json"})
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.put(
        url,
        content=body,
        headers={"Content-Type": "application/td+json", "Authorization": "Bearer nope"},
    )
    assert_problem(wrong, 401)
    assert_problem(client.delete(url), 401)
    assert client.get("/things").status_code == 200  # reads are open


def _sse_reader(
    base_url: str,
    path: str,
    out: queue.Queue[dict[str, Any]],
    stop: threading.Event,
    headers: dict[str, str] | None = None,
) -> None:
    timeout = httpx.Timeout(60, read=30)
    with (
        httpx.Client(base_url=base_url, timeout=timeout) as http,
        http.stream("GET", path, headers=headers or {}) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        event: dict[str, Any] = {}
        out.put({"type": "open"})
        for line in stream.iter_lines():
            if stop.is_set():
                return
            if not line:
                if "type" in event:
                    out.put(event)
                event = {}
            elif line.startswith("event: "):
                event["type"] = line[7:]
            elif line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])


def _collect(out: queue.Queue[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    events = []
    deadline = time.monotonic() + 30
    while len(events) < count and time.monotonic() < deadline:
        try:
            events.append(out.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            break
    return events


def _listen(
    server: TinyregServer, path: str, headers: dict[str, str] | None = None
) -> tuple[queue.Queue[dict[str, Any]], threading.Event]:
    out: queue.Queue[dict[str, Any]] = queue.Queue()
    stop = threading.Event()
    threading.Thread(
        target=_sse_reader, args=(server.base_url, path, out, stop, headers), daemon=True
    ).start()
    assert _collect(out, 1) == [{"type": "open"}]
    return out, stop


def test_events_over_sse_with_diff_filter_and_replay(
    server: TinyregServer, client: httpx.Client
) -> None:
    clear(client)
    everything, stop_all = _listen(server, "/events?diff=true")
    deletions, stop_deleted = _listen(server, "/events/thing_deleted")
    td = td_of("raspberry-pi-pico")
    ident = td["id"]
    assert (
        client.put(f"/things/{ident}", content=json.dumps(td), headers=TD_JSON).status_code == 201
    )
    td["title"] = "Pico (renamed)"
    assert (
        client.put(f"/things/{ident}", content=json.dumps(td), headers=TD_JSON).status_code == 204
    )
    assert client.delete(f"/things/{ident}", headers=AUTH).status_code == 204

    events = _collect(everything, 3)
    assert [e["type"] for e in events] == ["thing_created", "thing_updated", "thing_deleted"]
    created = dict(events[0]["data"])
    assert "created" in created.pop("registration")
    assert created == {**td_of("raspberry-pi-pico")}
    assert events[1]["data"] == {"id": ident, "title": "Pico (renamed)"}
    assert events[2]["data"] == {"id": ident}
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 3

    only = _collect(deletions, 1)
    assert [(e["type"], e["data"]) for e in only] == [("thing_deleted", {"id": ident})]

    # reconnect after the first event: the two that followed are replayed
    replay, stop_replay = _listen(server, "/events", headers={"Last-Event-ID": str(ids[0])})
    replayed = _collect(replay, 2)
    assert [(e["type"], e["id"]) for e in replayed] == [
        ("thing_updated", ids[1]),
        ("thing_deleted", ids[2]),
    ]
    assert replayed[0]["data"] == {"id": ident}  # without diff=true, the id only
    for stop in (stop_all, stop_deleted, stop_replay):
        stop.set()
    assert_problem(client.get("/events/thing_exploded"), 400)


def test_expired_registrations_disappear_and_are_purged(
    server: TinyregServer, client: httpx.Client
) -> None:
    clear(client)
    deletions, stop = _listen(server, "/events/thing_deleted")
    td = {**td_of("adafruit-pybadge"), "registration": {"ttl": 1}}
    ident = td["id"]
    assert (
        client.put(f"/things/{ident}", content=json.dumps(td), headers=TD_JSON).status_code == 201
    )
    served = client.get(f"/things/{ident}").json()
    assert served["registration"]["ttl"] == 1
    assert served["registration"]["expires"] > served["registration"]["modified"]
    purged = _collect(deletions, 1)
    stop.set()
    assert [(e["type"], e["data"]) for e in purged] == [("thing_deleted", {"id": ident})]
    assert_problem(client.get(f"/things/{ident}"), 404)
    assert client.get("/things").json() == []
    bad = {**td_of("adafruit-pybadge"), "registration": {"ttl": -5}}
    body = assert_problem(
        client.put(f"/things/{ident}", content=json.dumps(bad), headers=TD_JSON), 400
    )
    assert body["validationErrors"][0]["field"] == "/registration/ttl"


def test_sparql_search(client: httpx.Client) -> None:
    clear(client)
    for name in ("esp-eye", "sparkfun-edge"):
        td = td_of(name)
        client.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON)
    select = "SELECT ?d ?t WHERE { ?d a tr:Device ; td:title ?t } ORDER BY ?d"
    answer = client.get("/search/sparql", params={"query": select})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/sparql-results+json")
    rows = answer.json()["results"]["bindings"]
    assert [r["t"]["value"] for r in rows] == ["ESP-EYE", "SparkFun Edge"]
    assert rows[0]["d"] == {"type": "uri", "value": "urn:tinyreg:device:esp-eye"}
    as_json = client.get(
        "/search/sparql", params={"query": select}, headers={"Accept": "application/json"}
    )
    assert as_json.headers["content-type"].startswith("application/json")
    by_form = client.post("/search/sparql", data={"query": select})
    assert by_form.json() == answer.json()
    by_body = client.post(
        "/search/sparql", content=select, headers={"Content-Type": "application/sparql-query"}
    )
    assert by_body.json() == answer.json()
    ask = client.get("/search/sparql", params={"query": "ASK { ?d a tr:Device }"}).json()
    assert ask == {"head": {}, "boolean": True}

    construct = "CONSTRUCT { ?d td:title ?t } WHERE { ?d a tr:Device ; td:title ?t }"
    turtle = client.get(
        "/search/sparql", params={"query": construct}, headers={"Accept": "text/turtle"}
    )
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert '"SparkFun Edge"' in turtle.text
    jsonld = client.get(
        "/search/sparql", params={"query": construct}, headers={"Accept": "application/ld+json"}
    )
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert "SparkFun Edge" in json.dumps(jsonld.json())

    # updates are refused, whichever way they come, and change nothing
    drop = "DROP ALL"
    assert_problem(client.get("/search/sparql", params={"query": drop}), 400)
    assert_problem(
        client.post(
            "/search/sparql", content=drop, headers={"Content-Type": "application/sparql-update"}
        ),
        403,
    )
    assert_problem(client.post("/search/sparql", data={"update": drop}), 403)
    assert_problem(
        client.get("/search/sparql", params={"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}),
        400,
    )
    assert_problem(client.get("/search/sparql", params={"query": "SELECT nonsense"}), 400)
    assert len(client.get("/things").json()) == 2


def test_ids_never_alter_a_query(client: httpx.Client) -> None:
    clear(client)
    td = td_of("esp-eye")
    client.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON)
    for hostile in (
        "urn:x> } ; DROP ALL ; SELECT * { <urn:y",
        'urn:x" . ?s ?p ?o } #',
        "urn:x%3E%20%7D%20DROP%20ALL",
    ):
        assert_problem(client.get(f"/things/{hostile}"), 404)
        assert_problem(client.delete(f"/things/{hostile}", headers=AUTH), 404)
        assert_problem(client.get("/match/devices", params={"model": hostile}), 404)
    # control characters cannot be in an IRI: not found, not a refused query (regression)
    assert_problem(client.get("/models/%0A"), 404)
    assert_problem(client.delete("/models/%0A", headers=AUTH), 404)
    assert_problem(client.get("/match/models", params={"device": "a\tb"}), 404)
    assert [t["id"] for t in client.get("/things").json()] == [td["id"]]


def test_models_and_matching_match_the_python_api(
    server: TinyregServer, client: httpx.Client, tmp_path: Path
) -> None:
    clear(client)
    for name in ("arduino-nano-33-ble-sense", "sparkfun-edge", "esp-eye"):
        td = td_of(name)
        client.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON)
    model = KG_DATA / "models" / "gesture-cnn-int8.tflite"
    card = model.with_suffix(".yaml")
    files = {
        "file": (model.name, model.read_bytes(), "application/octet-stream"),
        "card": (card.name, card.read_bytes(), "application/yaml"),
    }
    assert_problem(client.post("/models", files=files), 401)
    added = client.post("/models", files=files, headers=AUTH)
    assert added.status_code == 201, added.text
    record = added.json()
    ident = record["id"]
    assert added.headers["location"] == f"/models/{ident}"
    assert record["runnable"] is True and record["arena_bytes"] > 0

    listed = client.get("/models").json()
    assert ident in [m["id"] for m in listed]
    assert client.get("/models", params={"q": "no-such-text"}).json() == []
    shown = client.get(f"/models/{ident}").json()
    # the record as listed, plus the tensors `tinyreg show` prints
    assert {k: v for k, v in shown.items() if k not in ("inputs", "outputs")} == record
    assert shown["inputs"] and all(t["shape"] and t["dtype"] for t in shown["inputs"])
    assert shown["outputs"]

    devices = client.get("/match/devices", params={"model": ident, "all_verdicts": True}).json()
    models = client.get(
        "/match/models", params={"device": "arduino-nano-33-ble-sense", "all_verdicts": True}
    ).json()
    explain = client.get(
        "/match/explain", params={"model": ident, "device": "sparkfun-edge"}
    ).json()
    fitting = client.get("/match/models", params={"device": "arduino-nano-33-ble-sense"})
    assert fitting.headers["x-total-count"] == str(len(fitting.json()))
    page = client.get(
        "/match/devices", params={"model": ident, "all_verdicts": True, "offset": 1, "limit": 1}
    )
    assert page.headers["x-total-count"] == str(len(devices)) and len(devices) >= 2
    assert page.json() == devices[1:2]

    # the same calls through the Python API on the same data give the same JSON (the
    # server's embedded store is locked by its process, so the data is registered again)
    with Registry.open(in_memory=True) as reg:
        for name in ("arduino-nano-33-ble-sense", "sparkfun-edge", "esp-eye"):
            reg.add_device(td_of(name))
        reg.add_model(model)
        nano = "arduino-nano-33-ble-sense"
        assert devices == [match_dict(m) for m in reg.match(model=ident, all_verdicts=True)]
        assert models == [match_dict(m) for m in reg.match(device=nano, all_verdicts=True)]
        assert fitting.json() == [match_dict(m) for m in reg.match(device=nano)]
        expected = reg.explain(ident, "sparkfun-edge")
        assert explain == {**match_dict(expected), "text": expected.explain()}
    # one id scheme: the ids `list` prints, the IRIs beside them
    assert {d["device"] for d in devices} <= {d["id"] for d in client.get("/things").json()}
    assert all(d["model"] == ident and d["model_iri"].endswith("/" + ident) for d in devices)

    assert_problem(client.get("/match/devices", params={"model": "no-such-model"}), 404)
    assert_problem(client.get("/match/models"), 400)
    broken = {"file": ("x.tflite", b"not a flatbuffer", "application/octet-stream")}
    body = assert_problem(client.post("/models", files=broken, headers=AUTH), 400)
    assert body["title"] == "Invalid model file"
    assert client.delete(f"/models/{ident}", headers=AUTH).status_code == 204
    assert_problem(client.get(f"/models/{ident}"), 404)


def expand(template: str, **values: Any) -> str:
    """RFC 6570 expansion of the two forms a directory TD uses: ``{name}`` and ``{?a,b}``."""

    def replace(match: re.Match[str]) -> str:
        names = match.group(2).split(",")
        if match.group(1) == "?":
            given = [(n, values[n]) for n in names if values.get(n) is not None]
            return "?" + urlencode(given) if given else ""
        return quote(str(values[names[0]]), safe="")

    return re.sub(r"\{(\??)([\w,]+)\}", replace, template)


def test_directory_describes_itself(
    server: TinyregServer, client: httpx.Client, td_validator: Draft7Validator
) -> None:
    answer = client.get("/.well-known/wot")
    assert answer.headers["content-type"].startswith("application/td+json")
    td = answer.json()
    assert td["@type"] == "ThingDirectory"
    assert not list(td_validator.iter_errors(td))
    assert {"rel": "type", "href": "https://w3c.github.io/wot-discovery/directory.tm.json"} in [
        {k: link[k] for k in ("rel", "href")} for link in td["links"]
    ]
    # the affordances the W3C WoT Discovery directory Thing Model names
    assert {"createThing", "createAnonymousThing", "retrieveThing", "updateThing"} <= set(
        td["actions"]
    )
    assert {"partiallyUpdateThing", "deleteThing", "searchSPARQL"} <= set(td["actions"])
    assert set(td["events"]) == {"thingCreated", "thingUpdated", "thingDeleted"}
    for affordance in (*td["actions"].values(), *td["properties"].values()):
        for form in affordance["forms"]:
            assert form["href"].startswith(server.base_url)
            for extra in form.get("additionalResponses", []):
                assert extra["contentType"] == "application/problem+json"
    assert_problem(client.get("/no/such/route"), 404)


def test_a_wot_client_pages_retrieves_and_searches_through_the_directory_td(
    client: httpx.Client, td_validator: Draft7Validator
) -> None:
    clear(client)
    ids = []
    for path in DEVICES[:7]:
        td = json.loads(path.read_text())
        ids.append(td["id"])
        assert client.put(f"/things/{td['id']}", content=path.read_bytes(), headers=TD_JSON)
    directory = client.get("/.well-known/wot").json()

    # the things property: a page at a time through its URI template
    things = directory["properties"]["things"]
    form = things["forms"][0]
    assert form["href"].endswith("/things{?offset,limit,format}")
    assert set(things["uriVariables"]) == {"offset", "limit", "format"}
    assert things["uriVariables"]["format"]["enum"] == ["array", "collection"]
    page = client.get(expand(form["href"], offset=2, limit=3))
    assert page.headers["content-type"].startswith(form["response"]["contentType"])
    assert [t["id"] for t in page.json()] == sorted(ids)[2:5]
    assert client.get(expand(form["href"])).json() == client.get("/things").json()

    # format=collection: a ThingCollection with the total and the next page, followed to the end
    url: str | None = expand(form["href"], limit=3, format="collection")
    seen: list[str] = []
    while url is not None:
        collection = client.get(url).json()
        assert collection["@type"] == "ThingCollection" and collection["total"] == len(ids)
        assert client.get(collection["@id"]).json() == collection  # the page names itself
        assert 1 <= len(collection["members"]) <= 3
        seen += [t["id"] for t in collection["members"]]
        url = collection.get("next")
    assert seen == sorted(ids)
    first = client.get(expand(form["href"], limit=3, format="collection"))
    links = httpx.Response(200, headers=first.headers).links
    assert "format=collection" in links["next"]["url"]
    assert links["canonical"]["url"].endswith("/things?format=collection")
    for bad in ({"format": "xml"}, {"offset": -1}, {"limit": "many"}):
        assert_problem(client.get("/things", params=bad), 400)

    # retrieveThing: a typed output and the content type the form names
    retrieve = directory["actions"]["retrieveThing"]
    assert retrieve["output"]["type"] == "object"
    answer = client.get(expand(retrieve["forms"][0]["href"], id=ids[0]))
    assert answer.headers["content-type"].startswith(
        retrieve["forms"][0]["response"]["contentType"]
    )
    assert answer.json()["id"] == ids[0] and not list(td_validator.iter_errors(answer.json()))
    missing = client.get(expand(retrieve["forms"][0]["href"], id="urn:no:such:thing"))
    assert (
        missing.status_code == retrieve["forms"][0]["additionalResponses"][0]["htv:statusCodeValue"]
    )

    # searchSPARQL by GET and by POST: SPARQL JSON results as the output says
    search = directory["actions"]["searchSPARQL"]
    assert search["output"]["type"] == "object"
    sparql = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    get_form, post_form = search["forms"]
    by_get = client.get(expand(get_form["href"], query=sparql))
    by_post = client.request(
        post_form["htv:methodName"],
        post_form["href"],
        content=sparql,
        headers={"Content-Type": post_form["contentType"]},
    )
    for result in (by_get, by_post):
        assert result.headers["content-type"].startswith(get_form["response"]["contentType"])
        assert set(result.json()) >= set(search["output"]["properties"]) - {"boolean"}
        assert int(result.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_serve_read_only_refuses_writes_with_the_token(tmp_path: Path) -> None:
    server = start_server(tmp_path / "store", tmp_path / "log", token=TOKEN, args=("--read-only",))
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            td = td_of("esp-eye")
            answer = http.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON)
            body = assert_problem(answer, 403)
            assert "read-only" in body["detail"]
            assert http.get("/things").json() == []
    finally:
        server.stop()


def test_latest_report_follows_writes(client: httpx.Client) -> None:
    clear(client)
    for name in ("arduino-nano-33-ble-sense", "sparkfun-edge"):
        td = td_of(name)
        client.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON)
    model = KG_DATA / "models" / "gesture-cnn-int8.tflite"
    files = {"file": (model.name, model.read_bytes(), "application/octet-stream")}
    added = client.post("/models", files=files, headers=AUTH)
    assert added.status_code == 201, added.text

    page = client.get("/reports/latest")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("data:image/png;base64,") >= 4  # plots embedded, nothing fetched
    assert "<script" not in page.text and "http://" not in page.text.split("<body", 1)[1]
    figures = client.get("/reports/latest", headers={"Accept": "application/json"}).json()
    assert [m["id"] for m in figures["models"]] == [added.json()["id"]]
    assert sorted(d["id"] for d in figures["devices"]) == sorted(
        t["id"] for t in client.get("/things").json()
    )
    assert len(figures["pairs"]) == 2
    markdown = client.get("/reports/latest", headers={"Accept": "text/markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "![" in markdown.text
    assert client.head("/reports/latest").status_code == 200

    # a write through the app makes the served report stale: the next one shows it
    td = td_of("esp-eye")
    client.put(f"/things/{td['id']}", content=json.dumps(td), headers=TD_JSON)
    again = client.get("/reports/latest", headers={"Accept": "application/json"}).json()
    assert len(again["devices"]) == 3 and len(again["pairs"]) == 3
    assert client.delete(f"/models/{added.json()['id']}", headers=AUTH).status_code == 204


def test_event_streams_are_bounded_per_client_and_in_all(tmp_path: Path) -> None:
    env = {"TINYREG_SSE_PER_CLIENT": "2", "TINYREG_SSE_MAX_STREAMS": "3"}
    server = start_server(tmp_path / "store", tmp_path / "log", token=TOKEN, env=env)
    opened: list[Any] = []
    timeout = httpx.Timeout(30, read=30)
    here = httpx.Client(base_url=server.base_url, timeout=timeout)
    # a second client: another loopback source address
    there = httpx.Client(
        base_url=server.base_url,
        timeout=timeout,
        transport=httpx.HTTPTransport(local_address="127.0.0.2"),
    )

    def open_stream(http: httpx.Client) -> httpx.Response:
        context = http.stream("GET", "/events")
        answer = context.__enter__()
        opened.append(context)
        return answer

    try:
        assert [open_stream(here).status_code for _ in range(2)] == [200, 200]
        third = open_stream(here)
        third.read()
        body = assert_problem(third, 429)
        assert "2 event streams per client" in body["detail"]
        assert int(third.headers["retry-after"]) >= 1
        assert open_stream(there).status_code == 200  # another client still gets one
        full = open_stream(there)
        full.read()
        assert "3 event streams" in assert_problem(full, 429)["detail"]
        # cheap routes are served all along
        assert here.get("/things").status_code == 200
        assert there.get("/.well-known/wot").status_code == 200
        # a closed stream gives its slot back
        opened.pop(0).__exit__(None, None, None)
        deadline = time.monotonic() + 25
        while True:
            again = open_stream(here)
            if again.status_code == 200:
                break
            again.read()
            opened.pop().__exit__(None, None, None)
            assert time.monotonic() < deadline, "the closed stream's slot never came back"
            time.sleep(0.5)
    finally:
        for context in opened:
            with contextlib.suppress(Exception):
                context.__exit__(None, None, None)
        here.close()
        there.close()
        server.stop()
