"""A real mosquitto broker on 127.0.0.1 at a free port, for tests and benchmarks.

The broker is the Debian package's ``/usr/sbin/mosquitto`` (``scripts/setup.sh`` installs
it); without it, starting one fails with a message that says so, never skips.
"""

from __future__ import annotations

import getpass
import ipaddress
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _processes import free_port, stop_process
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEBIAN_BINARY = "/usr/sbin/mosquitto"


def mosquitto_binary() -> str:
    """The mosquitto executable; fails loudly when it is not installed."""
    found = shutil.which("mosquitto") or (DEBIAN_BINARY if Path(DEBIAN_BINARY).is_file() else None)
    assert found, (
        "mosquitto is not installed: the deployment tests need a real MQTT broker "
        "(run `bash scripts/setup.sh test`, which installs the Debian package mosquitto)"
    )
    return found


@dataclass(frozen=True)
class TlsFiles:
    """A test CA and a broker certificate it signed (for 127.0.0.1 and localhost)."""

    ca: Path
    cert: Path
    key: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """Make a CA and a server certificate for 127.0.0.1 with ``cryptography`` (PEM files)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("tinyreg test CA"))
        .issuer_name(name("tinyreg test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "broker.pem", directory / "broker.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key.chmod(0o600)
    return files


class Mosquitto:
    """One broker process with a generated configuration (no persistence).

    Anonymous by default; with ``users`` (name -> password) it takes only those users
    (a ``password_file`` hashed by ``mosquitto_passwd``), and ``acl`` is its ``acl_file``;
    with ``tls`` it speaks MQTT over TLS only (``mqtts://``) with that certificate.

    Args:
        directory: Where the configuration and log go.
        port: The port; a free one by default. Restarting keeps it.
        users: The users and their passwords, for authentication.
        acl: The text of the ACL file.
        tls: The broker's certificate and key.

    """

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.tls = tls
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "mosquitto.conf"
        access = "allow_anonymous true\n"
        if tls is not None:
            # as the current user, who can read the key (root would switch to mosquitto's)
            access = f"user {getpass.getuser()}\n" + access
            access += f"certfile {tls.cert}\nkeyfile {tls.key}\ntls_version tlsv1.2\n"
        if users is not None:
            passwords = directory / "passwords"
            passwords.write_text("".join(f"{user}:{word}\n" for user, word in users.items()))
            binary = str(Path(mosquitto_binary()).with_name("mosquitto_passwd"))
            passwd = shutil.which("mosquitto_passwd") or binary
            subprocess.run([passwd, "-U", str(passwords)], check=True, capture_output=True)
            # run as the current user: mosquitto started by root would switch to its own
            # user, which cannot read files in the tests' private directories
            access = access.replace("allow_anonymous true\n", "")
            if "\nuser " not in "\n" + access:
                access = f"user {getpass.getuser()}\n" + access
            access += f"allow_anonymous false\npassword_file {passwords}\n"
        if acl is not None:
            (directory / "acl").write_text(acl)
            access += f"acl_file {directory / 'acl'}\n"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n" + access + "persistence false\n"
            "max_inflight_messages 0\n"
            "max_queued_messages 100000\n"
            "log_dest stderr\n"
            "log_type error\n"
        )

    @property
    def url(self) -> str:
        """The broker URL."""
        scheme = "mqtts" if self.tls is not None else "mqtt"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> Mosquitto:
        """Start the broker and wait until it accepts connections."""
        log = (self.directory / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.config)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"mosquitto exited with {self.process.returncode}: "
                    + (self.directory / "mosquitto.log").read_text(errors="replace")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"mosquitto did not listen on port {self.port} in {timeout} s")

    def stop(self) -> None:
        """Stop the broker (its clients see the connection drop)."""
        stop_process(self.process, timeout=5)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()
