"""ClientURIs (`<MOID>/<InstanceID>[/<Node>…][?Levels=<n>]` or `*[?Levels=<n>]`), MOIDs and
ServerURIs: parsed into values, with a ProtocolError that says what is wrong with a bad one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.core.errors import ProtocolError
from conformance.profiles import Profile


@dataclass(frozen=True)
class ClientURI:
    """A parsed ClientURI. `wildcard` is the `*` form (no MOID); `instance == ""` is the empty
    instance of a GET target, a new instance whose ID the client chooses."""

    moid: str | None
    instance: str | None
    path: tuple[str, ...] = ()
    levels: int | None = None

    @property
    def wildcard(self) -> bool:
        return self.moid is None

    @property
    def new_instance(self) -> bool:
        return self.instance == ""

    def target(self, profile: Profile) -> str:
        """The ClientURI without its query: the key of its entry in a tnds20 document."""
        if self.moid is None:
            return str(profile.client_uri.wildcard)
        sep: str = profile.client_uri.separator
        return sep.join((self.moid, self.instance or "", *self.path))

    def nodes(self) -> tuple[str, ...]:
        """The path from the tree's root: MOID, instance, nodes."""
        return (self.moid or "", self.instance or "", *self.path)


def check_moid(text: str, where: str = "MOID") -> str:
    """A MOID is a URN without `/`."""
    if not text.lower().startswith("urn:") or len(text) <= 4:
        raise ProtocolError(
            f"{text!r} is not a MOID (a URN such as urn:oma:mo:oma-dm-devinfo:1.0)", where
        )
    if "/" in text or "?" in text or any(c.isspace() for c in text):
        raise ProtocolError(f"MOID {text!r} contains '/', '?' or white space", where)
    return text


def parse_client_uri(
    text: str, profile: Profile, *, allow_new_instance: bool = False, where: str = "ClientURI"
) -> ClientURI:
    """Parse a ClientURI; raise ProtocolError naming what is wrong with it."""
    spec = profile.client_uri
    base, sep, query = text.partition("?")
    levels = None
    if sep:
        name, eq, value = query.partition("=")
        if name != spec.levels_query or not eq:
            raise ProtocolError(f"{text!r}: the only query allowed is {spec.levels_query}=n", where)
        if not value.isascii() or not value.isdigit():
            raise ProtocolError(f"{text!r}: {spec.levels_query} must be a whole number >= 0", where)
        levels = int(value)
    if base == spec.wildcard:
        return ClientURI(None, None, (), levels)
    parts = base.split(spec.separator)
    if len(parts) < 2:
        raise ProtocolError(f"{text!r}: a ClientURI is <MOID>/<InstanceID>[/<Node>…]", where)
    moid, instance, *path = parts
    check_moid(moid, where)
    if instance == "" and not (allow_new_instance and not path):
        raise ProtocolError(f"{text!r}: empty instance ID", where)
    if any(p == "" for p in path):
        raise ProtocolError(f"{text!r}: empty node name", where)
    if any(p in (".", "..") for p in (instance, *path)):
        raise ProtocolError(f"{text!r}: '.' and '..' are not node names", where)
    return ClientURI(moid, instance, tuple(path), levels)


def check_server_uri(text: str, where: str = "ServerURI") -> str:
    """A ServerURI is an absolute http or https URL."""
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ProtocolError(f"{text!r} is not a URL: {exc}", where) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProtocolError(f"{text!r} is not an absolute http(s) URL", where)
    if not text.isascii() or not text.isprintable() or " " in text:
        raise ProtocolError(
            f"{text!r} contains white space or characters a URL cannot carry", where
        )
    return text


def add_query(url: str, name: str, value: str) -> str:
    """`url` with `name=value` added to its query (`?` or `&`), as A12 describes."""
    base, _, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{name}={value}"
    return f"{joined}#{fragment}" if fragment else joined
