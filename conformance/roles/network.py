"""Where the harness's own servers are on the network, and the TLS they speak.

By default a reference server listens on 127.0.0.1 on a free port, over plain HTTP, and the URLs
it hands out name that address. A device on the lab's network needs more, and each step is an
explicit choice of the person running the harness:

- `listen` (`--dm-listen HOST[:PORT]`): the address to bind. Anything but loopback is refused
  unless it was given (`exposed`); a fixed port is bound by each case in turn (one port for a
  firewall rule or a NAT forward, set up once), and each case's URLs then carry a path of their
  own so that a request left over from an earlier case is never taken for this one's.
- `advertise` (`--dm-advertise BASE_URL`): the base of every URL handed to the device, when it
  reaches the harness through another name, a NAT or a TCP forwarder (the path, if any, is kept:
  requests must arrive with it).
- `tls` (`--dm-tls`): HTTPS, with a certificate from a test CA made for the run (trustme) or the
  vendor's certificate and key; `ca_file` is the CA certificate a device is provisioned with."""

from __future__ import annotations

import ipaddress
import ssl
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) is this machine's loopback."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether `host` means every address of the machine (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def url_host(host: str) -> str:
    """`host` as it stands in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address -> (host, port); port 0 means a
    free port for each case."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            raise ValueError(f"--dm-listen {text!r}: expected [ADDRESS]:PORT")
    elif text.count(":") > 1:  # an IPv6 address without a port
        host, port = text, ""
    else:
        host, _, port = text.partition(":")
    if not host:
        raise ValueError(f"--dm-listen {text!r}: no host")
    try:
        number = int(port) if port else 0
    except ValueError:
        raise ValueError(f"--dm-listen {text!r}: the port is not a number") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"--dm-listen {text!r}: no such port")
    return host, number


@dataclass(frozen=True)
class ServerTls:
    """The TLS of the harness's servers: the server-side context and the CA file a device
    trusts (None when the vendor's certificate came without its CA)."""

    context: ssl.SSLContext
    ca_file: Path | None
    source: str  # what a person reads: "the run's test CA", "the DUT file's certificate"


def run_ca(folder: Path, hosts: list[str]) -> ServerTls:
    """A test CA made for this run (trustme), and a certificate it signed for `hosts`; the CA's
    certificate is written to folder/ca.pem, its key stays in memory and dies with the run."""
    import trustme

    ca = trustme.CA(organization_name="dm20-conformance", organization_unit_name="test CA")
    leaf = ca.issue_cert(*dict.fromkeys(h.strip("[]") for h in hosts))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    folder.mkdir(parents=True, exist_ok=True)
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ServerTls(context, ca_file, f"a test CA made for this run ({ca_file})")


def vendor_tls(cert: Path, key: Path, ca_file: Path | None) -> ServerTls:
    """The vendor's certificate and key (the DUT file's client.tls)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot use the certificate {cert} with the key {key}: {exc}") from None
    return ServerTls(context, ca_file, f"the DUT file's certificate ({cert})")


@dataclass
class Network:
    """Where a reference server listens, what base URL it hands out, and its TLS."""

    host: str = LOOPBACK
    port: int = 0  # 0: a free port per case
    advertise: str | None = None  # the base URL the device is given
    tls: ServerTls | None = None
    exposed: bool = False  # listening beyond loopback was asked for (--dm-listen)
    run_token: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def __post_init__(self) -> None:
        if not self.exposed and not is_loopback(self.host):
            raise ValueError(
                f"the harness listens on loopback only unless told otherwise: listening on "
                f"{self.host} needs --dm-listen {url_host(self.host)}"
            )
        if self.advertise is not None:
            self.advertise = check_advertise(self.advertise)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def fixed_port(self) -> bool:
        return self.port != 0

    def case_prefix(self) -> str:
        """The path a case's URLs begin with: its own with a fixed port (a request left over
        from an earlier case on the same port gets 404), none with a port of its own."""
        return f"/{self.run_token}-{uuid.uuid4().hex[:8]}" if self.fixed_port else ""


def check_advertise(base: str, tls: bool = False) -> str:
    """A checked `--dm-advertise` base URL, without a trailing slash."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--dm-advertise {base!r}: expected http(s)://HOST[:PORT][/PATH]")
    if parts.query or parts.fragment:
        raise ValueError(f"--dm-advertise {base!r}: a base URL has no query or fragment")
    if tls and parts.scheme != "https":
        raise ValueError(f"--dm-advertise {base!r}: with --dm-tls the device is given https URLs")
    return base.rstrip("/")


def network_for(listen: str | None, advertise: str | None, tls: bool = False) -> Network:
    """The Network of a run's options (`--dm-listen`, `--dm-advertise`, whether `--dm-tls`; the
    TLS context is set once the certificate's names are known), checked: a device that is to
    reach the harness by a name that is not loopback needs it to listen beyond loopback, and
    that is never done without --dm-listen."""
    host, port = parse_listen(listen) if listen else (LOOPBACK, 0)
    if advertise is not None:
        advertise = check_advertise(advertise, tls)
        advertised = urlsplit(advertise).hostname or ""
        if listen is None and advertised and not is_loopback(advertised):
            raise ValueError(
                f"--dm-advertise {advertise} names {advertised}, which is not loopback: a device "
                "reaches the harness there only if it listens beyond loopback, which it never "
                "does unless told where with --dm-listen HOST[:PORT]"
            )
    elif is_wildcard(host):
        raise ValueError(
            f"--dm-listen {listen} listens on every address: say with --dm-advertise BASE_URL "
            "which one the device is to use"
        )
    return Network(host, port, advertise, exposed=listen is not None)


def certificate_hosts(network: Network) -> list[str]:
    """The names a certificate of the harness's server must carry: loopback, the listening
    address, the advertised host."""
    hosts = ["localhost", LOOPBACK, "::1"]
    if not is_wildcard(network.host):
        hosts.append(network.host)
    if network.advertise:
        hosts.append(urlsplit(network.advertise).hostname or LOOPBACK)
    return hosts
