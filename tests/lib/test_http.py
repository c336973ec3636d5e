"""The outbound HTTP client: the SSRF guard, hostile servers, and how errors are split.

DNS is stubbed (as Discourse does in its specs): names come from ``FakeDNS`` and
anything else must be a numeric address, so no test ever queries a real resolver.
Every TCP connect is recorded by a spy on ``socket.socket.connect``; connects to
anything but this machine fail as an unreachable internet would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from studio.lib import http

PUBLIC_IP = "93.184.216.34"
PUBLIC_IP6 = "2606:2800:220:1:248:1893:25c8:1946"
LOCAL_HOSTS = {"127.0.0.1", "::1"}
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 1000
GIB = 1024**3

# --- fake DNS and the connect spy ----------------------------------------------------------


@dataclass
class FakeDNS:
    table: dict[str, list[str] | Callable[[], list[str]]] = field(
        default_factory=lambda: {
            "localhost": ["127.0.0.1", "::1"],
            "localtest.me": ["127.0.0.1"],
            "metadata.google.internal": ["169.254.169.254"],
            "cdn.example.com": [PUBLIC_IP],
            "cdn6.example.com": [PUBLIC_IP6],
            "internal.example.com": ["10.1.2.3"],
            "mixed.example.com": [PUBLIC_IP, "10.0.0.5"],
        }
    )
    lookups: list[str] = field(default_factory=list)


def _record(ip: str, port: int) -> tuple:
    if ":" in ip:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        fake.lookups.append(host)
        answers = fake.table.get(str(host).rstrip(".").lower())
        if answers is None:
            # Numeric forms (127.1, 0x7f000001...) are parsed locally; names fail.
            return real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        ips = answers() if callable(answers) else answers
        return [_record(ip, port) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    attempts: list[tuple[str, int]] = []
    real = socket.socket.connect

    def connect(sock, address):
        attempts.append(tuple(address[:2]))
        if address[0] not in LOCAL_HOSTS:
            raise ConnectionRefusedError("tests have no internet")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


# --- a real local server with hostile routes -----------------------------------------------


@dataclass
class Server:
    port: int
    seen: list[dict[str, str]]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"


def _drip() -> Iterator[bytes]:
    yield MP4[:12]
    for _ in range(60):
        time.sleep(0.5)
        yield b"\x00"


def _endless() -> Iterator[bytes]:
    yield MP4
    while True:
        yield b"\x00" * 65536


def _slow_json() -> Iterator[bytes]:
    time.sleep(2)
    yield b"{}"


def _app(seen: list[dict[str, str]]):
    def app(environ, start_response):
        path = environ["PATH_INFO"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        seen.append(
            {
                "path": path,
                "method": environ["REQUEST_METHOD"],
                "host": environ.get("HTTP_HOST", ""),
                "authorization": environ.get("HTTP_AUTHORIZATION", ""),
            }
        )

        def reply(status: str, headers: list[tuple[str, str]], body) -> Iterator[bytes]:
            start_response(status, headers)
            return [body] if isinstance(body, bytes) else body

        mp4_length = ("Content-Length", str(len(MP4)))
        if path == "/video.mp4":
            return reply("200 OK", [("Content-Type", "video/mp4"), mp4_length], MP4)
        if path == "/typed":
            types = query.get("type", [])
            return reply("200 OK", [("Content-Type", t) for t in types] + [mp4_length], MP4)
        if path == "/huge":
            return reply(
                "200 OK", [("Content-Type", "video/mp4"), ("Content-Length", str(10 * GIB))], MP4
            )
        if path == "/endless":
            return reply("200 OK", [("Content-Type", "video/mp4")], _endless())
        if path == "/drip":
            return reply("200 OK", [("Content-Type", "video/mp4")], _drip())
        if path == "/html":
            return reply("200 OK", [("Content-Type", "text/html")], b"<html><body>hi</body></html>")
        if path == "/not-mp4":
            return reply("200 OK", [("Content-Type", "video/mp4")], b"<html>no video here</html>")
        if path == "/truncated":
            headers = [("Content-Type", "video/mp4"), ("Content-Length", str(2 * len(MP4)))]
            return reply("200 OK", [*headers, ("Connection", "close")], MP4)
        if path.startswith("/hop/"):
            left = int(path.removeprefix("/hop/"))
            location = "/video.mp4" if left == 1 else f"/hop/{left - 1}"
            return reply("302 Found", [("Location", location)], b"")
        if path == "/redirect":
            return reply("302 Found", [("Location", query["to"][0])], b"")
        if path in ("/missing", "/gone"):
            return reply("404 Not Found" if path == "/missing" else "410 Gone", [], b"gone")
        if path == "/slow":
            return reply("200 OK", [("Content-Type", "application/json")], _slow_json())
        if path == "/bad-json":
            return reply("200 OK", [("Content-Type", "application/json")], b'{"status": ')
        if path == "/json":
            return reply("201 Created", [("Content-Type", "application/json")], b'{"id": "t1"}')
        return reply("500 Internal Server Error", [], b"secret body text")

    return app


class _QuietHandler(WSGIRequestHandler):
    def log(self, *args) -> None:  # hostile routes end in broken pipes by design
        pass


@pytest.fixture
def server(settings) -> Iterator[Server]:
    seen: list[dict[str, str]] = []
    httpd = make_server("127.0.0.1", 0, _app(seen), threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    settings.STUDIO_OUTBOUND_ALLOW = [f"127.0.0.1:{httpd.port}"]
    yield Server(port=httpd.port, seen=seen)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the SSRF corpus -----------------------------------------------------------------------

SSRF_CORPUS = [
    # loopback, spelled every way
    "http://127.0.0.1/",
    "https://127.0.0.1/",
    "http://127.0.0.1:8765/",
    "https://127.255.255.254/",
    "http://localhost/",
    "https://localhost/",
    "https://localhost./",
    "https://localtest.me/",
    "http://[::1]/",
    "https://[::1]:443/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[0:0:0:0:0:ffff:127.0.0.1]/",
    "https://[::127.0.0.1]/",
    "https://2130706433/",
    "http://2130706433/",
    "https://0177.0.0.1/",
    "https://0x7f000001/",
    "https://0x7f.0.0.1/",
    "https://017700000001/",
    "https://127.1/",
    "https://127.0.1/",
    # unspecified
    "http://0.0.0.0/",
    "https://0.0.0.0/",
    "https://0/",
    "https://[::]/",
    # cloud metadata and link-local
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "https://metadata.google.internal./",
    "https://[fe80::1]/",
    # private and shared ranges
    "https://100.64.0.1/",
    "https://100.127.255.254/",
    "https://10.0.0.1/",
    "https://10.255.255.255/",
    "https://[::ffff:10.0.0.1]/",
    "https://172.16.0.1/",
    "https://172.31.255.1/",
    "https://192.168.1.1/",
    "https://192.168.0.1/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://internal.example.com/",
    "https://mixed.example.com/",
    # reserved, documentation, benchmark, multicast, broadcast
    "https://192.0.0.1/",
    "https://192.0.2.1/",
    "https://198.18.0.1/",
    "https://198.51.100.1/",
    "https://203.0.113.1/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[ff02::1]/",
    # IPv4 carried inside IPv6: NAT64, 6to4, Teredo
    "https://[64:ff9b::a00:1]/",
    "https://[2002:a00:1::]/",
    "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
    # schemes other than http(s)
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://93.184.216.34/file",
    "dict://127.0.0.1:6379/info",
    "data:text/plain,hello",
    # public addresses on the wrong port or scheme
    f"https://{PUBLIC_IP}:22/",
    f"https://{PUBLIC_IP}:6379/",
    "https://cdn.example.com:8443/",
    f"http://{PUBLIC_IP}/",
    # userinfo tricks
    f"https://user@{PUBLIC_IP}/",
    "https://user:pass@cdn.example.com/",
    "https://cdn.example.com@127.0.0.1/",
    "https://127.0.0.1#@cdn.example.com/",
]


def test_the_corpus_has_at_least_sixty_urls() -> None:
    assert len(set(SSRF_CORPUS)) >= 60


@pytest.mark.parametrize("url", SSRF_CORPUS)
def test_download_refuses_before_any_connect(url: str, connects, tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.Refused):
        http.download(url, dest, kind="video", max_bytes=1024)
    assert connects == []
    assert not dest.exists()


@pytest.mark.parametrize("url", SSRF_CORPUS)
def test_request_refuses_before_any_connect(url: str, connects) -> None:
    with pytest.raises(http.Refused):
        http.request("POST", url, json={"prompt": "x"})
    assert connects == []


@pytest.mark.parametrize("url", SSRF_CORPUS)
def test_check_url_refuses(url: str, connects) -> None:
    with pytest.raises(http.Refused):
        http.check_url(url)
    assert connects == []


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://cdn.example.com/clip.mp4", (PUBLIC_IP, 443)),
        ("https://cdn.example.com./clip.mp4", (PUBLIC_IP, 443)),
        ("https://cdn.example.com:443/clip.mp4", (PUBLIC_IP, 443)),
        ("https://cdn6.example.com/clip.mp4", (PUBLIC_IP6, 443)),
        (f"https://{PUBLIC_IP}/clip.mp4", (PUBLIC_IP, 443)),
        (f"https://[::ffff:{PUBLIC_IP}]/clip.mp4", (f"::ffff:{PUBLIC_IP}", 443)),
    ],
)
def test_public_hosts_pass_the_guard_and_reach_connect(url, address, connects) -> None:
    with pytest.raises(http.NotSent):
        http.request("GET", url)
    assert connects == [address]


def test_check_url_accepts_a_public_https_url(connects) -> None:
    http.check_url("https://cdn.example.com/a.png")
    assert connects == []


def test_unresolvable_host_is_not_sent_for_a_fetch(connects) -> None:
    with pytest.raises(http.NotSent):
        http.request("POST", "https://no-such-host.example.org/v1/tasks")
    assert connects == []


def test_unresolvable_host_is_refused_by_check_url() -> None:
    with pytest.raises(http.Refused):
        http.check_url("https://no-such-host.example.org/")


def test_dns_rebinding_connects_to_the_vetted_address_not_a_second_lookup(dns, connects) -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])
    dns.table["rebind.example.com"] = lambda: next(answers)
    with pytest.raises(http.NotSent):
        http.request("GET", "https://rebind.example.com/")
    assert connects == [(PUBLIC_IP, 443)]
    assert [name for name in dns.lookups if "rebind" in name] == ["rebind.example.com"]


def test_pinned_request_keeps_host_header_and_sni(monkeypatch, connects) -> None:
    sent: list[httpx.Request] = []

    def capture(transport, request):
        sent.append(request)
        return httpx.Response(204)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", capture)
    assert http.request("GET", "https://cdn.example.com/x").status_code == 204
    (request,) = sent
    assert request.url.host == PUBLIC_IP
    assert request.headers["Host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"


def test_allow_listed_name_is_reached_with_its_own_host_header(server, settings, connects) -> None:
    settings.STUDIO_OUTBOUND_ALLOW = [f"localhost:{server.port}"]
    response = http.request("GET", server.url("/json", host="localhost"))
    assert response.status_code == 201
    assert connects == [("127.0.0.1", server.port)]
    assert server.seen[-1]["host"] == f"localhost:{server.port}"


def test_allow_listed_host_on_another_port_is_refused(server, closed_port, connects) -> None:
    with pytest.raises(http.Refused):
        http.request("GET", f"http://127.0.0.1:{closed_port}/")
    assert connects == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:{other}/", "http://169.254.169.254/"])
def test_redirect_to_a_private_target_is_refused(server, closed_port, connects, tmp_path, target):
    to = target.format(other=closed_port)
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.Refused):
        http.download(server.url(f"/redirect?to={to}"), dest, kind="video", max_bytes=GIB)
    assert connects == [("127.0.0.1", server.port)]
    assert not dest.exists()


# --- hostile downloads -------------------------------------------------------------------


def test_valid_mp4_is_saved(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    result = http.download(server.url("/video.mp4"), dest, kind="video", max_bytes=GIB)
    assert result == http.Downloaded(path=dest, size=len(MP4), content_type="video/mp4")
    assert dest.read_bytes() == MP4


@pytest.mark.parametrize(
    "content_type", ["video/quicktime", "application/octet-stream", "binary/octet-stream", None]
)
def test_loose_cdn_content_types_are_accepted_for_video(server, tmp_path, content_type) -> None:
    query = f"?type={content_type}" if content_type else ""
    result = http.download(
        server.url(f"/typed{query}"), tmp_path / "v", kind="video", max_bytes=GIB
    )
    assert result.size == len(MP4)


def test_image_content_type_is_refused_for_video(server, tmp_path) -> None:
    with pytest.raises(http.BadContent):
        http.download(
            server.url("/typed?type=image/png"), tmp_path / "v", kind="video", max_bytes=GIB
        )


def test_announced_ten_gigabytes_is_rejected_before_writing(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.TooLarge):
        http.download(server.url("/huge"), dest, kind="video", max_bytes=GIB)
    assert not dest.exists()


def test_unbounded_body_stops_at_the_cap(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.TooLarge):
        http.download(server.url("/endless"), dest, kind="video", max_bytes=1024 * 1024)
    assert not dest.exists()


def test_slow_drip_stops_at_the_total_deadline(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    started = time.monotonic()
    with pytest.raises(http.NoResponse):
        http.download(server.url("/drip"), dest, kind="video", max_bytes=GIB, deadline=2)
    assert time.monotonic() - started <= 2 + 2
    assert not dest.exists()


def test_html_with_200_is_bad_content(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.BadContent):
        http.download(server.url("/html"), dest, kind="video", max_bytes=GIB)
    assert not dest.exists()


def test_video_type_without_ftyp_is_bad_content(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.BadContent):
        http.download(server.url("/not-mp4"), dest, kind="video", max_bytes=GIB)
    assert not dest.exists()


def test_three_redirects_are_followed(server, tmp_path) -> None:
    result = http.download(server.url("/hop/3"), tmp_path / "v", kind="video", max_bytes=GIB)
    assert result.size == len(MP4)


def test_five_redirects_are_refused(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.Refused):
        http.download(server.url("/hop/5"), dest, kind="video", max_bytes=GIB)
    assert not dest.exists()


def test_truncated_body_is_no_response(server, tmp_path) -> None:
    dest = tmp_path / "out.mp4"
    with pytest.raises(http.NoResponse):
        http.download(server.url("/truncated"), dest, kind="video", max_bytes=GIB)
    assert not dest.exists()


@pytest.mark.parametrize("path", ["/missing", "/gone"])
def test_gone_result_raises_status_error_with_code(server, tmp_path, path) -> None:
    with pytest.raises(http.HttpStatusError) as caught:
        http.download(server.url(path), tmp_path / "v", kind="video", max_bytes=GIB)
    assert caught.value.status_code in (404, 410)


def test_authorization_is_not_forwarded_to_another_host(server, settings, tmp_path) -> None:
    settings.STUDIO_OUTBOUND_ALLOW = [server.endpoint, f"localhost:{server.port}"]
    elsewhere = server.url("/video.mp4", host="localhost")
    http.download(
        server.url(f"/redirect?to={elsewhere}"),
        tmp_path / "v",
        kind="video",
        max_bytes=GIB,
        headers={"Authorization": "Bearer sk-secret"},
    )
    assert [(hit["path"], hit["authorization"]) for hit in server.seen] == [
        ("/redirect", "Bearer sk-secret"),
        ("/video.mp4", ""),
    ]


def test_authorization_is_kept_on_a_same_origin_redirect(server, tmp_path) -> None:
    http.download(
        server.url("/hop/1"),
        tmp_path / "v",
        kind="video",
        max_bytes=GIB,
        headers={"Authorization": "Bearer sk-secret"},
    )
    assert {hit["authorization"] for hit in server.seen} == {"Bearer sk-secret"}


# --- request() ------------------------------------------------------------------------------


def test_request_returns_status_json_and_headers(server) -> None:
    response = http.request("POST", server.url("/json"), json={"prompt": "a cat"})
    assert (response.status_code, response.ok) == (201, True)
    assert response.json() == {"id": "t1"}
    assert response.headers["content-type"] == "application/json"
    assert server.seen[-1]["method"] == "POST"


def test_request_returns_error_statuses_without_raising(server) -> None:
    response = http.request("GET", server.url("/missing"))
    assert (response.status_code, response.ok) == (404, False)


def test_request_does_not_follow_redirects(server) -> None:
    response = http.request("GET", server.url("/hop/1"))
    assert response.status_code == 302
    assert [hit["path"] for hit in server.seen] == ["/hop/1"]


def test_post_past_the_timeout_is_no_response(server) -> None:
    with pytest.raises(http.NoResponse):
        http.request("POST", server.url("/slow"), json={}, timeout=0.5)


def test_connect_to_a_closed_port_is_not_sent(settings, closed_port) -> None:
    settings.STUDIO_OUTBOUND_ALLOW = [f"127.0.0.1:{closed_port}"]
    with pytest.raises(http.NotSent):
        http.request("POST", f"http://127.0.0.1:{closed_port}/v1/tasks", json={})


def test_malformed_json_raises_value_error(server) -> None:
    response = http.request("GET", server.url("/bad-json"))
    with pytest.raises(ValueError):
        response.json()


def test_response_over_max_bytes_is_too_large(server) -> None:
    with pytest.raises(http.TooLarge):
        http.request("GET", server.url("/endless"), max_bytes=100_000)


def test_error_messages_name_the_path_but_not_query_or_body(server, settings, closed_port):
    settings.STUDIO_OUTBOUND_ALLOW = [f"127.0.0.1:{closed_port}"]
    with pytest.raises(http.NotSent) as caught:
        http.request(
            "POST",
            f"http://127.0.0.1:{closed_port}/v1/tasks?key=sk-secret",
            json={"prompt": "private words"},
        )
    message = str(caught.value)
    assert f"POST http://127.0.0.1:{closed_port}/v1/tasks" in message
    assert "sk-secret" not in message
    assert "private words" not in message
