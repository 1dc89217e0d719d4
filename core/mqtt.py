"""The MQTT connection both ends use (paho-mqtt 2, MQTT 3.1.1).

One client per process side: the fleet holds one client for all its devices, the deployer
one for all its transfers. The client reconnects by itself after the broker goes away and
subscribes again on every connection (sessions are clean: the protocol resumes transfers
from the device's acknowledgement bitmap, not from broker state).

No message stops the network thread: an error a handler lets through is logged and
counted (:attr:`Connection.handler_errors`). Credentials come from the environment or a
file, never the command line (``TINYREG_MQTT_USERNAME``, ``TINYREG_MQTT_PASSWORD`` or
``TINYREG_MQTT_PASSWORD_FILE``; the user name may also be in the URL), and ``mqtts://``
connects over TLS (CA file ``TINYREG_MQTT_CA_FILE``, else the system's CAs).

``TINYREG_MQTT_CLIENT=paho`` makes every connection use paho's own client through its
public API, also where the fast client (:class:`_Client`) is asked for; ``fast`` (the
default) keeps the fast client where it is asked for. ``benchmarks/deploy.py`` compares
the two.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tinyreg.core.errors import BrokerError, ConfigError

__all__ = [
    "CA_FILE_ENV",
    "CLIENT_ENV",
    "PASSWORD_ENV",
    "PASSWORD_FILE_ENV",
    "USERNAME_ENV",
    "BrokerSettings",
    "Connection",
    "broker_settings",
    "fast_client_allowed",
    "parse_broker",
]

log = logging.getLogger(__name__)

Handler = Callable[[str, bytes], None]

USERNAME_ENV = "TINYREG_MQTT_USERNAME"
PASSWORD_ENV = "TINYREG_MQTT_PASSWORD"
PASSWORD_FILE_ENV = "TINYREG_MQTT_PASSWORD_FILE"
CA_FILE_ENV = "TINYREG_MQTT_CA_FILE"
CLIENT_ENV = "TINYREG_MQTT_CLIENT"
CLIENT_CHOICES = ("fast", "paho")


def parse_broker(url: str) -> tuple[str, int]:
    """Host and port of a broker URL (``mqtt://host:port``, ``mqtts://…``, ``host:port``).

    >>> parse_broker("mqtt://127.0.0.1:18830")
    ('127.0.0.1', 18830)
    >>> parse_broker("localhost")
    ('localhost', 1883)
    >>> parse_broker("mqtts://deployer@broker.example")
    ('broker.example', 8883)

    Raises:
        ConfigError: If it is not such a URL.

    """
    settings = broker_settings(url, {})
    return settings.host, settings.port


@dataclass(frozen=True)
class BrokerSettings:
    """Where and how to connect.

    Attributes:
        host: The broker's host.
        port: Its port.
        tls: Connect over TLS (``mqtts://``).
        username: The user name, if any.
        password: The password, if any (from the environment or a file).
        ca_file: The CA certificates for TLS; ``None``: the system's.

    """

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None


def broker_settings(url: str, environ: Mapping[str, str] | None = None) -> BrokerSettings:
    """Read a broker URL and the credentials the environment gives.

    A password in the URL is refused: it would be visible in ``ps`` and in logs.

    >>> broker_settings("mqtt://ops@127.0.0.1:1883", {"TINYREG_MQTT_PASSWORD": "s"})
    BrokerSettings(host='127.0.0.1', port=1883, tls=False, username='ops', ca_file=None)

    Raises:
        ConfigError: If it is not a broker URL, holds a password, or the password file
            cannot be read.

    """
    env = os.environ if environ is None else environ
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp", "mqtts") or not parts.hostname:
        raise ConfigError(f"not an MQTT broker URL (mqtt://host:port or mqtts://…): {url!r}")
    if parts.password is not None:
        raise ConfigError(f"put the broker password in ${PASSWORD_ENV} or ${PASSWORD_FILE_ENV}")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ConfigError(f"bad port in broker URL {url!r}") from exc
    username = unquote(parts.username) if parts.username else env.get(USERNAME_ENV) or None
    password = env.get(PASSWORD_ENV) or None
    if password is None and env.get(PASSWORD_FILE_ENV):
        try:
            password = Path(env[PASSWORD_FILE_ENV]).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"${PASSWORD_FILE_ENV}: cannot read it: {exc}") from exc
    return BrokerSettings(
        parts.hostname, port, tls, username, password, env.get(CA_FILE_ENV) or None
    )


def fast_client_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether connections that ask for the fast client get it (``TINYREG_MQTT_CLIENT``).

    >>> fast_client_allowed({})
    True
    >>> fast_client_allowed({"TINYREG_MQTT_CLIENT": "paho"})
    False

    Raises:
        ConfigError: If the variable holds anything but ``fast``, ``paho`` or nothing.

    """
    env = os.environ if environ is None else environ
    choice = env.get(CLIENT_ENV, "").strip().lower() or "fast"
    if choice not in CLIENT_CHOICES:
        raise ConfigError(f"${CLIENT_ENV} must be 'fast' or 'paho', not {choice!r}")
    return choice == "fast"


_READ_BLOCK = 1 << 18


class _Client(mqtt.Client):
    """paho's client, reading the socket in blocks.

    paho reads a packet with several small ``recv`` calls (the command byte, each byte of
    the remaining length, then the rest) and goes back to ``select`` after each packet.
    With thousands of 1 KiB chunk messages a second, those system calls are most of the
    receiving thread's work. This client takes what the socket holds (up to 256 KiB) in one
    call, serves paho's reads from it, and handles every whole packet it holds before
    going back to ``select`` (which cannot see this buffer).

    A message published from the network thread itself (an acknowledgement sent while a
    chunk is handled) does not wake that thread through paho's socket pair: it is
    running, and its next ``select`` waits for the socket to be writable since a packet
    is queued. That saves a system call per message, and with it a release of the
    interpreter lock that another thread could hold for milliseconds.

    QoS 0 ``PUBLISH`` packets (the chunks) that the buffer holds whole are read here and
    handed to ``direct_handler`` as (topic, payload), without paho's message object,
    topic-filter matching and callback locks; every other packet goes through paho.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self.direct_handler: Handler | None = None

    def _packet_read(self) -> mqtt.MQTTErrorCode:
        handler = self.direct_handler
        if handler is None or self._in_packet["command"] != 0:
            return super()._packet_read()
        buf, pos, size = self._rbuf, self._rpos, len(self._rbuf)
        handled = False
        # MQTT 3.1.1 PUBLISH with QoS 0: 0x30 | DUP << 3 | RETAIN, remaining length
        # (1-4 bytes, 7 bits each), topic length (2 bytes), topic, payload (no packet id)
        while pos < size and buf[pos] & 0xF6 == 0x30:
            start, length, shift = pos + 1, 0, 0
            while start < size and shift < 28:
                byte = buf[start]
                start += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            else:
                break  # the length is not all here (or is malformed: paho says so)
            end = start + length
            if end > size or length < 2:
                break
            topic_end = start + 2 + (buf[start] << 8 | buf[start + 1])
            if topic_end > end:
                break  # malformed: paho reports it
            try:
                topic = buf[start + 2 : topic_end].decode()
            except UnicodeDecodeError:
                break
            pos = self._rpos = end
            handled = True
            handler(topic, buf[topic_end:end])
        if not handled:
            return super()._packet_read()
        with self._msgtime_mutex:
            self._last_bytes_received = time.monotonic()
        return mqtt.MQTT_ERR_SUCCESS

    def _sock_recv(self, bufsize: int) -> bytes:
        pos = self._rpos
        if pos >= len(self._rbuf):
            block = super()._sock_recv(_READ_BLOCK)  # raises BlockingIOError when empty
            if not block:
                return block  # the broker closed the connection
            self._rbuf, pos = block, 0
        end = min(pos + bufsize, len(self._rbuf))
        self._rpos = end
        return self._rbuf[pos:end]

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTT_ERR_SUCCESS and self._sock is not None:
            if self._rpos >= len(self._rbuf):
                break
            rc = super().loop_read(1)
        return rc

    def _packet_queue(self, *args: Any, **kwargs: Any) -> mqtt.MQTTErrorCode:
        if self._thread is None or threading.current_thread() is not self._thread:
            return super()._packet_queue(*args, **kwargs)
        # on the network thread: no wake-up needed, by this call or by another thread's
        # while this one runs (the loop writes whatever is queued when it goes on)
        wake, self._sockpairW = self._sockpairW, None
        try:
            return super()._packet_queue(*args, **kwargs)
        finally:
            self._sockpairW = wake

    def _forget_buffer(self) -> None:
        self._rbuf = b""
        self._rpos = 0

    def _create_socket(self) -> Any:
        self._forget_buffer()  # bytes of an earlier connection are not this one's
        return super()._create_socket()

    def _sock_close(self) -> None:
        self._forget_buffer()
        super()._sock_close()


class Connection:
    """One MQTT client with its subscriptions, reconnecting by itself.

    Args:
        broker: The broker URL.
        subscriptions: ``(topic filter, QoS)`` pairs, subscribed on every connection.
        on_message: Called with (topic, payload) on the network thread.
        name: A prefix for the client id.
        fast: Use the client that reads the socket in blocks and hands QoS 0 messages
            to ``on_message`` directly (:class:`_Client`), unless ``TINYREG_MQTT_CLIENT``
            is ``paho``; otherwise paho's own client.

    Raises:
        ConfigError: If the broker URL or ``TINYREG_MQTT_CLIENT`` is not valid.

    """

    def __init__(
        self,
        broker: str,
        subscriptions: Sequence[tuple[str, int]],
        on_message: Handler,
        *,
        name: str = "tinyreg",
        fast: bool = False,
    ) -> None:
        self.broker = broker
        settings = broker_settings(broker)
        self.host, self.port = settings.host, settings.port
        self.subscriptions = list(subscriptions)
        self._subscriptions_lock = threading.Lock()
        self.handler = on_message
        self.connected = threading.Event()
        self.connections = 0
        #: Errors handlers let through (logged; the network thread goes on).
        self.handler_errors = 0
        self._refused: str | None = None
        self._subscribed = threading.Event()
        self._pending_sub: int | None = None
        #: Whether this connection uses the fast client (:class:`_Client`).
        self.fast = fast and fast_client_allowed()
        self.client = (_Client if self.fast else mqtt.Client)(
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
        if settings.username is not None:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            self.client.tls_set(ca_certs=settings.ca_file)
        if isinstance(self.client, _Client):
            self.client.direct_handler = self._dispatch

    def _dispatch(self, topic: str, payload: bytes) -> None:
        """Hand a message to the handler; whatever it raises is logged, never propagated."""
        try:
            self.handler(topic, payload)
        except Exception:  # no message may stop the network thread
            self.handler_errors += 1
            log.exception("error handling a message on %s", topic)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        if getattr(rc, "is_failure", False):
            self._refused = str(rc)
            return
        self._refused = None
        self.connections += 1
        with self._subscriptions_lock:
            subscriptions = list(self.subscriptions)
        if subscriptions:
            _, mid = client.subscribe(subscriptions)
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
        self._dispatch(msg.topic, bytes(msg.payload))

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
            why = f": the broker refused it ({self._refused})" if self._refused else ""
            raise BrokerError(self.broker, f"no connection within {timeout:g} s{why}")

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and subscribed (after a reconnection, for instance)."""
        return self._subscribed.wait(timeout)

    def subscribe(self, topic: str, qos: int) -> None:
        """Subscribe to one more topic filter, now and on every reconnection."""
        with self._subscriptions_lock:
            self.subscriptions.append((topic, qos))
        self.client.subscribe(topic, qos)

    def unsubscribe(self, topic: str) -> None:
        """Drop a subscription :meth:`subscribe` added (once per call)."""
        with self._subscriptions_lock:
            if (found := next((s for s in self.subscriptions if s[0] == topic), None)) is None:
                return
            self.subscriptions.remove(found)
            still = any(s[0] == topic for s in self.subscriptions)
        if not still:
            self.client.unsubscribe(topic)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        """Publish; while disconnected, QoS 0 messages are lost and QoS 1 ones queued."""
        self.client.publish(topic, payload, qos=qos, retain=retain)

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
