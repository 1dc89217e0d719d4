"""The fast MQTT client extends private parts of paho-mqtt 2.2: fail loudly if paho changes.

``core/mqtt.py``'s ``_Client`` overrides paho's ``_packet_read``, ``_sock_recv``,
``loop_read``, ``_packet_queue``, ``_create_socket`` and ``_sock_close`` and reads
``_in_packet``, ``_msgtime_mutex``, ``_last_bytes_received``, ``_thread``, ``_sockpairW``
and ``_sock`` (why, and what it saves: docs/design.md, *What made it cheaper*). A paho
release that renames, removes or re-signs any of them must stop the suite here, with the
name, before a deployment silently loses messages. The behaviour itself is checked through
a real mosquitto: the same messages, in the same order, reach the handler with the fast
client and with paho's own, whole packets in one read and packets split across reads.
"""

from __future__ import annotations

import inspect
import threading
from importlib import metadata

import paho.mqtt.client as paho
import pytest
from _mosquitto import Mosquitto

from tinyreg.core.errors import ConfigError
from tinyreg.core.mqtt import CLIENT_ENV, Connection, _Client

OVERRIDDEN = {
    "_packet_read": ["self"],
    "_sock_recv": ["self", "bufsize"],
    "loop_read": ["self", "max_packets"],
    "_packet_queue": ["self", "command", "packet", "mid", "qos", "info"],
    "_create_socket": ["self"],
    "_sock_close": ["self"],
}
READ_ATTRIBUTES = (
    "_in_packet",
    "_msgtime_mutex",
    "_last_bytes_received",
    "_thread",
    "_sockpairW",
    "_sock",
)


def test_paho_is_the_minor_version_the_fast_client_was_written_for() -> None:
    version = metadata.version("paho-mqtt")
    assert version.split(".")[:2] == ["2", "2"], (
        f"paho-mqtt {version}: core/mqtt.py's _Client extends private methods of 2.2; "
        "check each override against the new release before widening the pin"
    )


@pytest.mark.parametrize("name", sorted(OVERRIDDEN))
def test_every_overridden_paho_method_exists_with_the_same_parameters(name: str) -> None:
    original = getattr(paho.Client, name, None)
    assert callable(original), f"paho.Client.{name} is gone: core/mqtt.py's _Client overrides it"
    assert list(inspect.signature(original).parameters) == OVERRIDDEN[name], (
        f"paho.Client.{name} changed its parameters to {inspect.signature(original)}"
    )
    assert name in vars(_Client), f"_Client no longer overrides {name}: update this list"


def test_the_paho_state_the_fast_client_reads_is_there() -> None:
    client = _Client(paho.CallbackAPIVersion.VERSION2, client_id="guard")
    missing = [name for name in READ_ATTRIBUTES if not hasattr(client, name)]
    assert not missing, f"paho.Client no longer has {missing}: core/mqtt.py's _Client reads them"
    assert client._in_packet["command"] == 0  # the "between packets" state it tests for


def _received(broker: Mosquitto, fast: bool, payloads: list[bytes]) -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []
    done = threading.Event()
    expected = len(payloads) + 1

    def handle(topic: str, payload: bytes) -> None:
        got.append((topic, payload))
        if len(got) == expected:
            done.set()

    receiver = Connection(broker.url, [("guard/#", 1)], handle, name="guard-rx", fast=fast)
    sender = Connection(broker.url, [], lambda _t, _p: None, name="guard-tx")
    receiver.start()
    sender.start()
    try:
        for number, payload in enumerate(payloads):
            sender.publish(f"guard/{number % 3}", payload, qos=0)
        sender.publish("guard/last", b"done", qos=1)  # a QoS 1 packet goes through paho
        assert done.wait(20), f"{len(got)} of {expected} messages arrived (fast={fast})"
    finally:
        sender.stop()
        receiver.stop()
    return got


def test_the_fast_client_delivers_what_paho_delivers(broker: Mosquitto) -> None:
    # sizes around the 1- and 2-byte remaining-length boundaries, and large messages
    # that a single socket read cannot hold whole (the fast path hands them to paho)
    sizes = [0, 1, 100, 124, 125, 126, 127, 128, 1024, 16_383, 16_384, 70_000, 300_000]
    payloads = [bytes([n % 251]) * size for n, size in enumerate(sizes * 20)]
    plain = _received(broker, False, payloads)
    fast = _received(broker, True, payloads)
    assert fast == plain
    assert [p for _t, p in fast[:-1]] == payloads
    assert fast[-1] == ("guard/last", b"done")


@pytest.mark.parametrize(
    ("setting", "fast", "expected"),
    [
        (None, True, _Client),
        ("fast", True, _Client),
        ("paho", True, paho.Client),
        (" PAHO ", True, paho.Client),
        ("fast", False, paho.Client),
        (None, False, paho.Client),
    ],
)
def test_tinyreg_mqtt_client_chooses_paho_s_own_client_even_where_the_fast_one_is_asked(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, fast: bool, expected: type
) -> None:
    if setting is None:
        monkeypatch.delenv(CLIENT_ENV, raising=False)
    else:
        monkeypatch.setenv(CLIENT_ENV, setting)
    connection = Connection("mqtt://127.0.0.1:1", [], lambda _t, _p: None, fast=fast)
    assert type(connection.client) is expected
    assert connection.fast == (expected is _Client)


def test_an_unknown_tinyreg_mqtt_client_is_refused_with_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CLIENT_ENV, "aiomqtt")
    with pytest.raises(ConfigError, match=r"TINYREG_MQTT_CLIENT must be 'fast' or 'paho'"):
        Connection("mqtt://127.0.0.1:1", [], lambda _t, _p: None, fast=True)
