"""Agents under QEMU as OTA devices: ``tinyreg device run --target qemu-...``.

Each device is one ``qemu-system-arm`` running the agent's serve mode with its TD's id, RAM and
flash slot and the trusted key, its flash image a file in the state directory (so it survives
the process), and a :class:`~tinyreg.firmware.bridge.Bridge` between its UART and its MQTT
topics. QEMU's serial port connects to a loopback socket the bridge listens on (a port the
system chose), so that a restarted QEMU reconnects to the same bridge. The serve mode runs in
real time (no ``-icount``): the agent waits for its UART and its figures are host time.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tinyreg.core.errors import ConfigError
from tinyreg.core.protocol import device_key
from tinyreg.firmware.bridge import Bridge, SocketLine
from tinyreg.firmware.device import DeviceLimits
from tinyreg.firmware.target import agent_command, firmware_elf

MAX_DEVICE_ID = 128
"""Bytes of a device id the signed messages (and so the agent) hold."""


class AgentDevice:
    """One agent under QEMU with its bridge.

    Args:
        broker: The broker URL.
        limits: The device's limits from its TD.
        target: ``qemu-mps2-an386`` or ``qemu-mps3-an547``.
        state_dir: The folder of all devices; this one keeps ``flash.img`` and ``qemu.log``
            in a subfolder named after its id.
        public_key: The raw Ed25519 public key the device trusts.
        recovery_key: A second raw key, accepted for key rotation only.

    Raises:
        ConfigError: If the device id is longer than the agent holds.

    """

    def __init__(
        self,
        broker: str,
        limits: DeviceLimits,
        target: str,
        state_dir: Path,
        public_key: bytes,
        recovery_key: bytes | None = None,
    ) -> None:
        if len(limits.device.encode()) > MAX_DEVICE_ID:
            raise ConfigError(f"device id {limits.device!r} is longer than {MAX_DEVICE_ID} B")
        self.limits = limits
        self.target = target
        self.folder = state_dir / device_key(limits.device).replace(":", "_").replace("%", "_")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.flash = self.folder / "flash.img"
        self.public_key = public_key
        self.recovery_key = recovery_key
        self.process: subprocess.Popen[bytes] | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.5)
        self.port = self._listener.getsockname()[1]
        self.bridge = Bridge(broker, limits.device, self._accept)

    def _accept(self) -> SocketLine:
        conn, _ = self._listener.accept()
        conn.settimeout(None)
        return SocketLine(conn)

    def command(self) -> list[str]:
        """The ``qemu-system-arm`` command line of this device."""
        lim = self.limits
        args = [
            "serve",
            "--device", lim.device,
            "--key", self.public_key.hex(),
            "--ram", str(lim.ram_bytes),
            "--ram-reserved", str(lim.ram_reserved),
            "--runtime-overhead", str(lim.runtime_ram_overhead),
            "--slot-bytes", str(lim.slot_bytes),
            "--flash", str(self.flash.resolve()),
        ]  # fmt: skip
        if self.recovery_key is not None:
            args += ["--recovery-key", self.recovery_key.hex()]
        return agent_command(self.target, args, serial=f"tcp:127.0.0.1:{self.port}", icount=False)

    def start_qemu(self) -> None:
        """Start (or restart) the emulated board; it boots its last committed model.

        Raises:
            ConfigError: If ``qemu-system-arm`` is not installed.

        """
        command = self.command()
        with (self.folder / "qemu.log").open("ab") as out:
            try:
                self.process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
                )
            except FileNotFoundError as exc:
                raise ConfigError(f"qemu-system-arm is not installed ({exc})") from exc

    def kill(self) -> None:
        """Cut the power: SIGKILL the emulator (the flash image keeps what was written)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def start(self, timeout: float = 10.0) -> None:
        """Connect the bridge to the broker, then start the board.

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        self.bridge.start(timeout)
        self.start_qemu()

    def stop(self) -> None:
        """Stop the board and the bridge."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.bridge.stop()
        with contextlib.suppress(OSError):
            self._listener.close()


class AgentFleet:
    """Several agents under QEMU (one per TD and replica), started and stopped together.

    Args:
        broker: The broker URL.
        devices: Their limits.
        target: The QEMU target every device runs on.
        state_dir: One subfolder per device.
        public_key: The raw key the devices trust.
        recovery_key: A second raw key for key rotation only.

    """

    def __init__(
        self,
        broker: str,
        devices: Sequence[DeviceLimits],
        target: str,
        state_dir: Path,
        public_key: bytes,
        recovery_key: bytes | None = None,
    ) -> None:
        firmware_elf(target)  # built (or found in the cache) before any board starts
        self.devices = {
            d.device: AgentDevice(broker, d, target, state_dir, public_key, recovery_key)
            for d in devices
        }

    def start(self, timeout: float = 10.0) -> None:
        """Start every device.

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        for device in self.devices.values():
            device.start(timeout)

    def stop(self) -> None:
        """Stop every device."""
        for device in self.devices.values():
            device.stop()

    def __enter__(self) -> AgentFleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
