"""The MQTT connection both ends use (paho-mqtt 2, MQTT 3.1.1).

One client per process side: the fleet holds one client for all its devices, the deployer
one for all its transfers. The client reconnects by itself after the broker goes away and
subscribes again on every connection (sessions are clean: the protocol resumes transfers
from the device's acknowledgement bitmap, not from broker state).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tinyreg.registry.errors import BrokerError, ConfigError

__all__ = ["Connection", "parse_broker"]

Handler = Callable[[str, bytes], None]


def parse_broker(url: str) -> tuple[str, int]:
    """Host and port of a broker URL (``mqtt://host:port``, ``tcp://…`` or ``host:port``).

    >>> parse_broker("mqtt://127.0.0.1:18830")
    ('127.0.0.1', 18830)
    >>> parse_broker("localhost")
    ('localhost', 1883)

    Raises:
        ConfigError: If it is not such a URL.

    """
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ConfigError(f"not an MQTT broker URL (mqtt://host:port): {url!r}")
    try:
        port = parts.port or 1883
    except ValueError as exc:
        raise ConfigError(f"bad port in broker URL {url!r}") from exc
    return parts.hostname, port


class Connection:
    """One MQTT client with its subscriptions, reconnecting by itself.

    Args:
        broker: The broker URL.
        subscriptions: ``(topic filter, QoS)`` pairs, subscribed on every connection.
        on_message: Called with (topic, payload) on the network thread.
        name: A prefix for the client id.

    """

    def __init__(
        self,
        broker: str,
        subscriptions: Sequence[tuple[str, int]],
        on_message: Handler,
        *,
        name: str = "tinyreg",
    ) -> None:
        self.broker = broker
        self.host, self.port = parse_broker(broker)
        self.subscriptions = list(subscriptions)
        self.handler = on_message
        self.connected = threading.Event()
        self.connections = 0
        self._subscribed = threading.Event()
        self._pending_sub: int | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{name}-{uuid.uuid4().hex[:12]}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        if getattr(rc, "is_failure", False):
            return
        self.connections += 1
        if self.subscriptions:
            _, mid = client.subscribe(self.subscriptions)
            self._pending_sub = mid
        else:
            self._subscribed.set()
        self.connected.set()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        codes: object,
        properties: object = None,
    ) -> None:
        if mid == self._pending_sub:
            self._subscribed.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        self.connected.clear()
        self._subscribed.clear()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.handler(msg.topic, bytes(msg.payload))

    def start(self, timeout: float = 10.0) -> None:
        """Connect, start the network thread, and wait until subscribed.

        Raises:
            BrokerError: If the broker cannot be reached within ``timeout``.

        """
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise BrokerError(self.broker, f"cannot connect: {exc}") from exc
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise BrokerError(self.broker, f"no connection within {timeout:g} s")

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and subscribed (after a reconnection, for instance)."""
        return self._subscribed.wait(timeout)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        """Publish; while disconnected, QoS 0 messages are lost and QoS 1 ones queued."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
