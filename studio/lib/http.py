"""Outbound HTTP: the one place Studio talks to other servers (it alone imports httpx).

Two flows go out: provider API calls (:func:`request`) and downloads of provider results
and user image links (:func:`download`). Both go through the same guard
(reliability.md section 4):

* only http/https, no ``user@`` in the URL, ports 80/443, https for public hosts;
* the host is resolved once and refused if ANY address is not public (Sentry's "one bad
  apple" rule), checked with ``is_global`` plus an explicit deny list, because
  ``is_global``/``is_private`` have had gaps (CGNAT, IPv4-mapped IPv6, CVE-2024-4032);
* the connection goes to the vetted address with the Host header and TLS SNI of the
  original name (paperless-ngx's pinned transport), so DNS rebinding between the check
  and the connect cannot work;
* ``settings.STUDIO_OUTBOUND_ALLOW`` names exact private ``host:port`` endpoints that may be
  reached anyway (the bundled fake provider, test servers), also over plain http.

Errors say what a caller must decide: :class:`NotSent` (nothing reached the server, safe
to retry even a POST), :class:`NoResponse` (the server may have acted: reconcile before
retrying a submit), :class:`Refused` (our guard said no), :class:`TooLarge` and
:class:`BadContent`. Messages name the method, host and path only, never bodies or query
strings, which can carry keys and signed tokens.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import httpx
from django.conf import settings
from django.utils.datastructures import CaseInsensitiveMapping

USER_AGENT = "Studio/0.1 (+self-hosted)"
MAX_REDIRECTS = 3
PUBLIC_PORTS = frozenset({80, 443})
CONNECT_TIMEOUT = 5.0
WRITE_TIMEOUT = 30.0
POOL_TIMEOUT = 5.0
DOWNLOAD_READ_TIMEOUT = 30.0

# IANA special-purpose ranges, after Sentry's SENTRY_DISALLOWED_IPS. ``is_global`` already
# covers most of them; the list is the belt to its braces on Pythons with known gaps.
# IPv4-mapped addresses are checked as the IPv4 address they carry, and NAT64, 6to4 and
# Teredo are refused outright because they embed an IPv4 address a router may unwrap.
_DENIED_NETWORKS = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2001::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# --- errors ------------------------------------------------------------------------------


class HttpError(Exception):
    """Any outbound failure. ``url`` is the scheme, host and path (no query, no userinfo)."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class NotSent(HttpError):
    """Provably nothing reached the server (DNS, connect, pool): safe to retry even a POST."""


class NoResponse(HttpError):
    """The server may have received the request but no complete answer came back."""


class Refused(HttpError):
    """Our guard refused the destination; retrying will not change that."""


class TooLarge(HttpError):
    """The body is over the cap (announced in Content-Length, or counted while reading)."""


class BadContent(HttpError):
    """The Content-Type or the first bytes are not what the caller asked for."""


class HttpStatusError(HttpError):
    """A download ended in a non-2xx answer; 404 and 410 mean the result is gone."""

    def __init__(self, message: str, *, url: str = "", status_code: int) -> None:
        super().__init__(message, url=url)
        self.status_code = status_code


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes
    url: str

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return jsonlib.loads(self.content)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    content_type: str


# --- the guard ------------------------------------------------------------------------------


def _where(url: httpx.URL) -> str:
    """How a URL appears in errors: no userinfo, no query (keys, signatures)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.raw_host.decode('ascii')}{port}{url.path}"


def _fail(
    kind: type[HttpError], url: httpx.URL, method: str, reason: str, **extra: Any
) -> HttpError:
    prefix = f"{method} {_where(url)}" if method else _where(url)
    return kind(f"{prefix}: {reason}", url=_where(url), **extra)


def _is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not any(ip in network for network in _DENIED_NETWORKS)


def _allow_listed(host: str, port: int) -> bool:
    # Read at call time: deployments and tests change the setting.
    endpoint = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return endpoint in {entry.strip().lower() for entry in settings.STUDIO_OUTBOUND_ALLOW}


def _vet(url: httpx.URL, method: str = "") -> IPAddress:
    """The address to connect to for ``url``; raises Refused or NotSent, never connects."""
    if url.scheme not in ("http", "https"):
        raise _fail(Refused, url, method, "only http and https links can be fetched")
    if url.userinfo:
        raise _fail(Refused, url, method, "links with a user name or password are not allowed")
    host = url.raw_host.decode("ascii")
    if not host:
        raise _fail(Refused, url, method, "the link has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    allowed = _allow_listed(host, port)
    if not allowed and url.scheme != "https":
        raise _fail(Refused, url, method, "public hosts must be reached over https")
    if not allowed and port not in PUBLIC_PORTS:
        raise _fail(Refused, url, method, f"port {port} is not allowed")
    try:
        records = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        # Nothing was sent, and a failed lookup is often a passing network problem.
        raise _fail(NotSent, url, method, "the host name could not be resolved") from error
    addresses = [ipaddress.ip_address(record[4][0]) for record in records]
    if not allowed and not all(_is_public(ip) for ip in addresses):
        raise _fail(Refused, url, method, "the host has a private or reserved address")
    return addresses[0]


class _PinnedTransport(httpx.HTTPTransport):
    """Vets every request and connects to the vetted address, never to a fresh lookup.

    The URL's host is rewritten to the address; the Host header (set by the client from
    the original URL) and the TLS SNI and certificate check stay on the original name.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = _vet(request.url, request.method)
        name = request.url.raw_host.decode("ascii")
        request.extensions = {**request.extensions, "sni_hostname": name}
        request.url = request.url.copy_with(host=str(address))
        return super().handle_request(request)


@cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes milliseconds; one context serves every client.
    return httpx.create_ssl_context(trust_env=False)


def _client(read_timeout: float) -> httpx.Client:
    transport = _PinnedTransport(
        verify=_ssl_context(),
        trust_env=False,
        # No reuse: a kept-alive connection to one name must never carry a request for
        # another name that happens to share its address.
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    return httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(
            connect=CONNECT_TIMEOUT, read=read_timeout, write=WRITE_TIMEOUT, pool=POOL_TIMEOUT
        ),
    )


@contextmanager
def _transport_errors(method: str, url: httpx.URL) -> Iterator[None]:
    """Turn httpx's exceptions into ours, split by whether the server may have acted."""
    try:
        yield
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
        raise _fail(Refused, url, method, "not a usable link") from error
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise _fail(NotSent, url, method, f"could not connect ({type(error).__name__})") from error
    except httpx.RequestError as error:
        # Read/write timeouts, resets, protocol errors, bad encodings: the request may
        # have been received, so a POST must be treated as possibly done.
        reason = f"no complete answer ({type(error).__name__})"
        raise _fail(NoResponse, url, method, reason) from error


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise Refused("not a usable link") from error


def check_url(url: str) -> None:
    """Refuse a URL the guard would refuse; for forms validating a user's link.

    Unlike a fetch, a host that does not resolve is refused here: it cannot be used.
    """
    try:
        _vet(_parse(url))
    except NotSent as error:
        raise Refused(str(error), url=error.url) from error


# --- reading bodies ---------------------------------------------------------------------


def _body(
    response: httpx.Response, url: httpx.URL, method: str, *, max_bytes: int, deadline_at: float
) -> Iterator[bytes]:
    """The body in chunks, capped in bytes and in total time.

    Content-Length is only an early reject: bytes are counted as they arrive. httpx's
    read timeout applies per chunk, so a slow drip is stopped by the total deadline.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _fail(TooLarge, url, method, f"announced {declared} bytes, the limit is {max_bytes}")
    received = 0
    # No chunk_size: httpx would buffer up to it, hiding a drip from the deadline check.
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise _fail(TooLarge, url, method, f"more than {max_bytes} bytes")
        if time.monotonic() > deadline_at:
            raise _fail(NoResponse, url, method, "the answer took too long")
        yield chunk


# --- API calls ------------------------------------------------------------------------------


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
    params: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    max_bytes: int = 10 * 1024 * 1024,
) -> Response:
    """One API call. Never follows redirects; any status comes back as a Response.

    Only transport problems raise: NotSent, NoResponse, Refused or TooLarge.
    ``timeout`` bounds each wait for data and the reading of the whole answer.
    """
    deadline_at = time.monotonic() + timeout
    target = _parse(url)
    with _client(timeout) as client, _transport_errors(method, target):
        built = client.build_request(
            method, target, headers=headers, json=json, content=content, params=params
        )
        final_url = str(built.url)  # before the transport pins it to an address
        response = client.send(built, stream=True)
        try:
            chunks = _body(response, target, method, max_bytes=max_bytes, deadline_at=deadline_at)
            body = b"".join(chunks)
        finally:
            response.close()
    return Response(
        status_code=response.status_code,
        headers=CaseInsensitiveMapping(dict(response.headers.items())),
        content=body,
        url=final_url,
    )


# --- downloads ------------------------------------------------------------------------------

_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
_SNIFF_BYTES = 12


def _content_type_ok(kind: str, content_type: str) -> bool:
    # CDNs label files loosely, so generic types pass here; the magic bytes decide.
    if content_type in _GENERIC_TYPES:
        return True
    if kind == "video":
        return content_type in _VIDEO_TYPES
    return content_type.startswith("image/")


def _magic_ok(kind: str, head: bytes) -> bool:
    if kind == "video":
        return head[4:8] == b"ftyp"  # ISO-BMFF: MP4 and QuickTime
    return head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    )


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return url.scheme, url.raw_host, url.port


def _follow(
    client: httpx.Client, url: httpx.URL, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.URL]:
    """GET ``url`` following up to MAX_REDIRECTS hops by hand; the answer and its URL.

    Each hop goes through the pinned transport, so every Location gets the full check.
    Authorization is dropped as soon as the origin changes and never comes back.
    """
    for _hop in range(MAX_REDIRECTS + 1):
        with _transport_errors("GET", url):
            response = client.send(client.build_request("GET", url, headers=headers), stream=True)
            if not response.is_redirect:
                return response, url
            response.close()
            next_url = url.join(response.headers["Location"])
        if _origin(next_url) != _origin(url):
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        url = next_url
    raise _fail(Refused, url, "GET", f"more than {MAX_REDIRECTS} redirects")


def _save(
    response: httpx.Response,
    url: httpx.URL,
    dest: Path,
    *,
    kind: str,
    max_bytes: int,
    deadline_at: float,
) -> int:
    """Stream the body to ``dest``, checking the magic bytes as soon as they arrive."""
    head = b""
    size = 0
    with dest.open("wb") as out:
        for chunk in _body(response, url, "GET", max_bytes=max_bytes, deadline_at=deadline_at):
            if len(head) < _SNIFF_BYTES:
                head += chunk[: _SNIFF_BYTES - len(head)]
                if len(head) == _SNIFF_BYTES and not _magic_ok(kind, head):
                    raise _fail(BadContent, url, "GET", f"the file is not a {kind}")
            out.write(chunk)
            size += len(chunk)
    if len(head) < _SNIFF_BYTES:
        raise _fail(BadContent, url, "GET", f"only {size} bytes, not a {kind}")
    return size


def _accepted_type(response: httpx.Response, url: httpx.URL, kind: str) -> str:
    """The Content-Type of a final answer that is a success and plausibly a ``kind``."""
    if not response.is_success:
        status = response.status_code
        raise _fail(
            HttpStatusError, url, "GET", f"the server answered {status}", status_code=status
        )
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not _content_type_ok(kind, content_type):
        raise _fail(BadContent, url, "GET", f"{content_type or 'no type'} is not a {kind}")
    return content_type


def download(
    url: str,
    dest: Path,
    *,
    kind: Literal["video", "image"],
    max_bytes: int,
    deadline: float = 120.0,
    headers: Mapping[str, str] | None = None,
) -> Downloaded:
    """Stream a video or image to ``dest``; on any failure nothing is left there.

    ``deadline`` is the most the whole download may take, in seconds. A non-2xx answer
    raises HttpStatusError before any body is read.
    """
    deadline_at = time.monotonic() + deadline
    # identity: with compression the cap would count the wrong bytes.
    sent = {"Accept-Encoding": "identity", **(headers or {})}
    try:
        with _client(min(DOWNLOAD_READ_TIMEOUT, deadline)) as client:
            response, final = _follow(client, _parse(url), sent)
            try:
                with _transport_errors("GET", final):
                    content_type = _accepted_type(response, final, kind)
                    size = _save(
                        response,
                        final,
                        dest,
                        kind=kind,
                        max_bytes=max_bytes,
                        deadline_at=deadline_at,
                    )
            finally:
                response.close()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return Downloaded(path=dest, size=size, content_type=content_type)
