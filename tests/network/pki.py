"""The certificates of the network tests, made with trustme: a CA and a server certificate for
loopback (127.0.0.1, localhost, ::1), another CA that signed nothing of ours (verifying against
it fails), and a client CA with a device certificate (mutual TLS)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pki:
    ca: Path  # the CA of the server certificate
    server_cert: Path
    server_key: Path
    other_ca: Path  # a CA that signed nothing of ours
    client_ca: Path  # the CA of the device's certificate
    client_cert: Path
    client_key: Path


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="dm20 network tests")
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    other = trustme.CA(organization_name="dm20 network tests, another CA")
    client_ca = trustme.CA(organization_name="dm20 network tests, devices")
    client = client_ca.issue_cert("device.dm20.test")
    pki = Pki(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        other_ca=folder / "other-ca.pem",
        client_ca=folder / "client-ca.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
    )
    ca.cert_pem.write_to_path(str(pki.ca))
    other.cert_pem.write_to_path(str(pki.other_ca))
    client_ca.cert_pem.write_to_path(str(pki.client_ca))
    pki.server_cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(pki.server_key))
    pki.client_cert.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
    client.private_key_pem.write_to_path(str(pki.client_key))
    return pki


_MADE: dict[Path, Pki] = {}
_MAKING = threading.Lock()


def pki_in(folder: Path) -> Pki:
    """The certificates in `folder`, made on first use (jobs ask from several threads)."""
    with _MAKING:
        if folder not in _MADE:
            _MADE[folder] = make_pki(folder)
        return _MADE[folder]
