"""REST app settings and the directory core, in process (the HTTP tests use a real server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from _paths import KG_DATA
from tinyreg.core.errors import NotFoundError, QueryError, TDValidationError
from tinyreg.core.stores import OxigraphStore
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry import ConfigError, Registry
from tinyreg.registry.directory import Directory, TDSchema
from tinyreg.registry.rest import Settings, create_app, default_td_schema_path
from tinyreg.registry.rest.events import EventLog

TOKEN = "in-process-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def td_of(name: str) -> dict[str, Any]:
    return json.loads((KG_DATA / "devices" / f"{name}.td.jsonld").read_text())


def make_client(tmp_path: Path, **settings: Any) -> TestClient:
    values: dict[str, Any] = {"store": str(tmp_path / "store"), "token": TOKEN, **settings}
    return TestClient(create_app(Settings(**values)), raise_server_exceptions=False)


@pytest.fixture
def registry() -> Iterator[Registry]:
    with Registry.open(in_memory=True) as reg:
        yield reg


TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
TR_CONTEXT = "https://w3id.org/tinyreg/td/v1"


def lamp_td() -> dict[str, Any]:
    """A generic WoT Thing (no tinyreg device terms), valid against the TD 1.1 schema."""
    return {
        "@context": TD_CONTEXT,
        "id": "urn:example:lamp:kitchen-1",
        "title": "Kitchen lamp",
        "securityDefinitions": {"basic_sc": {"scheme": "basic", "in": "header"}},
        "security": "basic_sc",
        "properties": {
            "on": {
                "type": "boolean",
                "forms": [
                    {"href": "https://lamp.example.com/on", "contentType": "application/json"}
                ],
            }
        },
        "actions": {"toggle": {"forms": [{"href": "https://lamp.example.com/toggle"}]}},
    }


def put(client: TestClient, td: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.put(
        f"/things/{td['id']}",
        content=json.dumps(td),
        headers={"Content-Type": "application/td+json", **(AUTH if headers is None else headers)},
    )


def test_read_only_and_tokenless_services_refuse_writes(tmp_path: Path) -> None:
    with make_client(tmp_path / "a", read_only=True) as client:
        answer = put(client, td_of("esp-eye"))
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert client.get("/things").status_code == 200
    with make_client(tmp_path / "b", token=None) as client:
        assert put(client, td_of("esp-eye")).status_code == 403
        assert client.delete("/models/x").status_code == 403


def test_reads_can_require_the_token(tmp_path: Path) -> None:
    with make_client(tmp_path, auth_reads=True) as client:
        assert client.get("/things").status_code == 401
        assert client.get("/search/sparql", params={"query": "ASK {}"}).status_code == 401
        assert client.get("/things", headers=AUTH).status_code == 200
        wot = client.get("/.well-known/wot", headers=AUTH).json()
        assert wot["security"] == ["bearer_sc"]


def test_body_limits(tmp_path: Path) -> None:
    with make_client(tmp_path, max_body_bytes=2_000, max_upload_bytes=5_000) as client:
        big = td_of("esp-eye")  # about 2.4 kB
        answer = put(client, big)
        assert answer.status_code == 413
        assert answer.json()["limit"] == 2_000

        def chunks() -> Iterator[bytes]:
            data = json.dumps(big).encode()
            for i in range(0, len(data), 500):
                yield data[i : i + 500]

        streamed = client.put(
            f"/things/{big['id']}",
            content=chunks(),
            headers={"Content-Type": "application/td+json", **AUTH},
        )
        assert streamed.status_code == 413
        model = KG_DATA / "models" / "gesture-cnn-float32.tflite"  # 9,360 bytes
        files = {"file": (model.name, model.read_bytes(), "application/octet-stream")}
        upload = client.post("/models", files=files, headers=AUTH)
        assert upload.status_code == 413
        assert client.get("/things").json() == []
        assert client.get("/models").json() == []


def test_sparql_timeout_is_a_problem(tmp_path: Path) -> None:
    with make_client(tmp_path, sparql_timeout_s=0.05) as client:
        slow = (
            "SELECT (COUNT(*) AS ?n) WHERE { { SELECT * WHERE { ?a ?b ?c } LIMIT 3000 }"
            " { SELECT * WHERE { ?d ?e ?f } LIMIT 3000 } }"
        )
        answer = client.get("/search/sparql", params={"query": slow})
        assert answer.status_code == 503
        assert answer.json()["title"] == "Query timeout"


def test_a_big_answer_is_refused_on_an_in_memory_store_too() -> None:
    with Registry.open(in_memory=True) as reg:
        app = create_app(Settings(token=TOKEN, sparql_max_rows=50), registry=reg)
        with TestClient(app, raise_server_exceptions=False) as client:
            everything = client.get("/search/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
            assert everything.status_code == 400
            assert "more than 50 rows" in everything.json()["detail"]
            page = client.get("/search/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 50"})
            assert len(page.json()["results"]["bindings"]) == 50
    # the store reads the answer a row at a time and stops past the bound
    with Registry.open(in_memory=True) as reg:
        assert isinstance(reg.store, OxigraphStore)
        with pytest.raises(QueryError, match="more than 7 rows"):
            reg.store.query("SELECT * { ?s ?p ?o }", max_rows=7)
        assert len(reg.store.query("SELECT * { ?s ?p ?o } LIMIT 7", max_rows=7).rows) == 7


def test_store_failure_is_a_problem_without_internals() -> None:
    with Registry.open(in_memory=True) as reg:
        app = create_app(Settings(token=TOKEN), registry=reg)
        with TestClient(app, raise_server_exceptions=False) as client:
            reg.store.close()  # the store goes away under the running service
            answer = client.get("/things")
            assert answer.status_code == 503
            body = answer.json()
            assert body["title"] == "Graph store unavailable"
            assert "Traceback" not in answer.text and 'File "' not in answer.text


def test_cors_is_configurable(tmp_path: Path) -> None:
    with make_client(tmp_path, cors_origins=["https://ui.example"]) as client:
        answer = client.get("/things", headers={"Origin": "https://ui.example"})
        assert answer.headers["access-control-allow-origin"] == "https://ui.example"
        other = client.get("/things", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with make_client(tmp_path / "none") as client:
        answer = client.get("/things", headers={"Origin": "https://ui.example"})
        assert "access-control-allow-origin" not in answer.headers


def test_missing_td_schema_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scripts/setup\.sh"):
        create_app(Settings(td_schema=tmp_path / "absent.json"))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYREG_TOKEN", "from-env")
    monkeypatch.setenv("TINYREG_READ_ONLY", "1")
    monkeypatch.setenv("TINYREG_CORS_ORIGINS", '["https://a.example"]')
    settings = Settings()
    assert settings.token is not None and settings.token.get_secret_value() == "from-env"
    assert settings.read_only and settings.cors_origins == ["https://a.example"]
    assert "from-env" not in repr(settings)


# ---------------------------------------------------------------- the directory core


def test_directory_expiry_with_a_clock(registry: Registry) -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    directory = Directory(registry, default_ttl=60, clock=lambda: now[0])
    thing, previous = directory.put(td_of("esp-eye"))
    assert previous is None
    assert thing.registration is not None and thing.registration.ttl == 60
    assert thing.registration.expires == now[0] + timedelta(seconds=60)
    assert [t.id for t in directory.page().things] == [thing.id]
    now[0] += timedelta(seconds=59)
    assert directory.find(thing.id) is not None
    assert directory.purge_expired() == []
    now[0] += timedelta(seconds=2)
    assert directory.find(thing.id) is None
    assert directory.page().things == []
    assert directory.purge_expired() == [thing.id]
    assert not registry.store.has_graph(thing.id)


def test_directory_refuses_with_every_field(registry: Registry) -> None:
    schema = TDSchema.load(default_td_schema_path())
    directory = Directory(registry, schema)
    td = td_of("esp-eye")
    td["security"] = 5
    td["properties"]["image"]["forms"] = "nowhere"
    with pytest.raises(TDValidationError) as refused:
        directory.put(td)
    fields = {e.field for e in refused.value.errors}
    assert {"/security", "/properties/image/forms"} <= fields
    assert directory.page().things == []
    with pytest.raises(NotFoundError):
        directory.get("urn:tinyreg:device:esp-eye")


def test_cli_registered_devices_are_served_without_registration(registry: Registry) -> None:
    registry.add_device(td_of("sparkfun-edge"))
    directory = Directory(registry)
    thing = directory.get("urn:tinyreg:device:sparkfun-edge")
    assert thing.registration is None
    assert thing.document() == td_of("sparkfun-edge")
    first = directory.page()
    registry.add_device(td_of("esp-eye"))  # another path: the count changes, so the tag
    second = directory.page()
    assert second.etag != first.etag
    assert [t.id for t in second.things] == [
        "urn:tinyreg:device:esp-eye",
        "urn:tinyreg:device:sparkfun-edge",
    ]
    assert [t.id for t in directory.page(limit=1, offset=1).things] == [
        "urn:tinyreg:device:sparkfun-edge"
    ]
    assert not directory.page(limit=1, offset=1).more and directory.page(limit=1).more


def test_any_td_is_a_thing_and_only_device_tds_are_devices(registry: Registry) -> None:
    schema = TDSchema.load(default_td_schema_path())
    directory = Directory(registry, schema)
    lamp = lamp_td()
    assert schema.errors(lamp) == []
    thing, _ = directory.put(lamp)
    assert thing.document()["registration"]["created"]
    directory.put(td_of("esp-eye"))
    assert [t.id for t in directory.page().things] == [lamp["id"], "urn:tinyreg:device:esp-eye"]
    assert directory.get(lamp["id"]).td == lamp
    # a plain Thing: typed td:Thing, no tr:Device, no profile, in its own graph only
    assert registry.query(f"ASK {{ <{lamp['id']}> a td:Thing ; td:title ?t }}").boolean
    assert not registry.query(f"ASK {{ <{lamp['id']}> a tr:Device }}").boolean
    assert not registry.query(f"ASK {{ <{lamp['id']}> tr:hasProfile ?p }}").boolean
    assert [d.id for d in registry.list_devices()] == ["urn:tinyreg:device:esp-eye"]
    with pytest.raises(NotFoundError):
        registry.get_device(lamp["id"])
    registry.add_model(KG_DATA / "models" / "gesture-cnn-int8.tflite")
    model = registry.list_models()[0].id
    matched = {m.device for m in Matchmaker(registry).devices_for(model, all_verdicts=True)}
    assert matched == {"urn:tinyreg:device:esp-eye"}

    described = registry.describe_thing(lamp)
    assert (described.iri, list(described.graphs), described.device) == (
        lamp["id"],
        [lamp["id"]],
        False,
    )
    device = registry.describe_thing(td_of("esp-eye"))
    assert device.device and len(device.graphs) == 2  # its graph and its profile's
    # the rule reads the expansion: tinyreg's context alone (no device member) is no device
    branded = {**lamp_td(), "@context": [TD_CONTEXT, TR_CONTEXT], "manufacturer": "Acme"}
    assert not registry.describe_thing(branded).device

    # a device's TD replaced by a plain Thing's: no longer a device, nor matched
    directory.put({**lamp_td(), "id": "urn:tinyreg:device:esp-eye"})
    assert registry.list_devices() == []
    assert Matchmaker(registry).devices_for(model, all_verdicts=True) == []
    assert len(directory.page().things) == 2


def test_partial_device_tds_are_refused_by_the_device_shapes(registry: Registry) -> None:
    directory = Directory(registry, TDSchema.load(default_td_schema_path()))
    declared = {
        **lamp_td(),
        "@context": [TD_CONTEXT, TR_CONTEXT],
        "@type": ["Thing", "Device"],
        "mcu": {
            "part": "nRF52840",
            "core": "Cortex-M4F",
            "clockHz": 64000000,
            "fpu": True,
            "dsp": True,
        },
        "flash": {"capacityBytes": 1048576},
    }
    with pytest.raises(TDValidationError) as refused:
        directory.put(declared)
    assert any(e.field == "/ram" and "hasRAM" in e.description for e in refused.value.errors)
    # a device member without the Device type makes a device too, refused the same way
    member_only = {
        **lamp_td(),
        "@context": [TD_CONTEXT, TR_CONTEXT],
        "ram": {"capacityBytes": 262144},
    }
    with pytest.raises(TDValidationError) as refused:
        directory.put(member_only)
    fields = {e.field for e in refused.value.errors}
    assert {"/mcu", "/flash"} <= fields
    assert directory.page().things == []


def test_an_event_subscriber_that_falls_behind_is_told_and_its_stream_ends() -> None:
    async def run() -> tuple[list[str], int]:
        log = EventLog(100, per_client=1, queue_size=3)
        slot = log.open("10.0.0.9")
        stream = log.stream({"thing_created"}, False, None, slot)
        assert (await anext(stream)).startswith(": tinyreg")  # subscribed from here on
        for k in range(8):  # the client reads nothing meanwhile
            log.publish("thing_created", f"urn:x:{k}", {"id": f"urn:x:{k}"})
        await asyncio.sleep(0)  # the publications reach the stream's queue
        received = [chunk async for chunk in stream]
        return received, log.open_streams

    received, still_open = asyncio.run(run())
    events, last = received[:-1], received[-1]
    # the queue held 3 events, then the end marker; the rest are in the log for a replay
    assert [e.split("\n")[1] for e in events] == ["id: 1", "id: 2", "id: 3"]
    assert "Last-Event-ID" in last
    assert still_open == 0  # the stream's slot is given back
