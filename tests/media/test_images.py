"""Start/end frame intake: what is refused, and what survives of what is accepted."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import ExifTags
from PIL import Image as Pillow
from werkzeug.serving import make_server

from studio.accounts.models import User
from studio.lib import http
from studio.media.images import ImageRejected, accept_upload, accept_url, provider_input
from studio.media.models import Image
from studio.providers.catalog import ImageRules

pytestmark = pytest.mark.django_db

RULES = ImageRules()


@pytest.fixture
def user(owner) -> User:
    """The owner of the shared ``workspace`` fixture (tests/conftest.py)."""
    return owner.user


def encoded(
    size: tuple[int, int] = (640, 480),
    fmt: str = "JPEG",
    mode: str = "RGB",
    color: tuple[int, ...] = (200, 40, 40),
    **save,
) -> bytes:
    out = io.BytesIO()
    Pillow.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` by ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "frame.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_bytes(image: Image) -> bytes:
    with default_storage.open(image.file.name, "rb") as handle:
        return handle.read()


def rejection(workspace, user, data: bytes, rules: ImageRules = RULES) -> str:
    with pytest.raises(ImageRejected) as caught:
        accept_upload(workspace=workspace, user=user, upload=upload(data), rules=rules)
    assert not Image.objects.exists()
    assert not default_storage.exists(f"workspaces/{workspace.id}")
    return caught.value.message


# --- accepted ------------------------------------------------------------------------------


def test_jpeg_upload_is_stored_re_encoded_under_a_random_key(workspace, user) -> None:
    original = encoded(quality=40)
    image = accept_upload(workspace=workspace, user=user, upload=upload(original), rules=RULES)
    data = stored_bytes(image)
    assert image.file.name.startswith(f"workspaces/{workspace.id}/images/")
    assert image.file.name.endswith(".jpg")
    assert "frame" not in image.file.name
    assert (image.width, image.height, image.content_type) == (640, 480, "image/jpeg")
    assert image.size_bytes == len(data)
    assert data != original
    assert (image.workspace, image.created_by, image.original_name) == (
        workspace,
        user,
        "frame.jpg",
    )


def test_long_original_name_is_cut_to_200_characters(workspace, user) -> None:
    name = "a" * 300 + ".jpg"
    image = accept_upload(
        workspace=workspace, user=user, upload=upload(encoded(), name), rules=RULES
    )
    assert image.original_name == name[:200]


def test_png_with_html_appended_comes_out_without_the_html(workspace, user) -> None:
    polyglot = encoded(fmt="PNG") + b"<html><script>alert(document.cookie)</script></html>"
    image = accept_upload(workspace=workspace, user=user, upload=upload(polyglot), rules=RULES)
    data = stored_bytes(image)
    assert b"<script" not in data
    assert data.startswith(b"\xff\xd8\xff")


def test_jpeg_with_gps_exif_comes_out_without_exif(workspace, user) -> None:
    exif = Pillow.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    original = encoded(exif=exif.tobytes())
    assert b"PhoneCo" in original
    image = accept_upload(workspace=workspace, user=user, upload=upload(original), rules=RULES)
    data = stored_bytes(image)
    assert b"Exif" not in data
    assert b"PhoneCo" not in data
    assert not Pillow.open(io.BytesIO(data)).getexif()


def test_exif_orientation_is_applied_before_storing(workspace, user) -> None:
    exif = Pillow.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° clockwise to view
    original = encoded(size=(400, 800), exif=exif.tobytes())
    image = accept_upload(workspace=workspace, user=user, upload=upload(original), rules=RULES)
    assert (image.width, image.height) == (800, 400)
    assert Pillow.open(io.BytesIO(stored_bytes(image))).size == (800, 400)


def test_transparent_png_stays_png_with_its_alpha(workspace, user) -> None:
    original = encoded(fmt="PNG", mode="RGBA", color=(0, 128, 0, 100))
    image = accept_upload(workspace=workspace, user=user, upload=upload(original), rules=RULES)
    reopened = Pillow.open(io.BytesIO(stored_bytes(image)))
    assert (image.content_type, image.file.name[-4:]) == ("image/png", ".png")
    assert (reopened.format, reopened.mode) == ("PNG", "RGBA")
    assert reopened.getpixel((0, 0))[3] == 100


def test_png_with_an_unused_alpha_channel_is_stored_as_jpeg(workspace, user) -> None:
    original = encoded(fmt="PNG", mode="RGBA", color=(0, 128, 0, 255))
    image = accept_upload(workspace=workspace, user=user, upload=upload(original), rules=RULES)
    assert image.content_type == "image/jpeg"


def test_webp_is_accepted(workspace, user) -> None:
    image = accept_upload(
        workspace=workspace, user=user, upload=upload(encoded(fmt="WEBP")), rules=RULES
    )
    assert image.content_type == "image/jpeg"


# --- refused -------------------------------------------------------------------------------


def test_png_claiming_50000_square_is_refused_quickly(workspace, user) -> None:
    started = time.monotonic()
    message = rejection(workspace, user, png_claiming(50_000, 50_000))
    assert "megapixels" in message
    assert time.monotonic() - started < 2


def test_pixel_count_over_the_rules_is_refused_before_decoding(workspace, user) -> None:
    # 49 MP: over our 40 MP but under Pillow's own limit. Decoding the empty pixel data
    # would say "damaged"; the megapixel message shows the header was enough.
    message = rejection(workspace, user, png_claiming(7_000, 7_000))
    assert message == (
        "This image is 7000\N{MULTIPLICATION SIGN}7000 pixels. The most we accept is 40 megapixels."
    )


def test_pillow_decompression_bomb_warning_is_a_refusal(workspace, user) -> None:
    lenient = ImageRules(max_pixels=1_000_000_000)  # leave only Pillow's warning to catch it
    message = rejection(workspace, user, png_claiming(10_000, 10_000), lenient)
    assert "megapixels" in message


@pytest.mark.parametrize(
    "data",
    [
        encoded(fmt="GIF"),
        encoded(fmt="TIFF"),
        encoded(fmt="BMP"),
        b'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"></svg>',
        b"<html><body>not an image</body></html>",
    ],
    ids=["gif", "tiff", "bmp", "svg", "html"],
)
def test_formats_outside_the_rules_are_refused(workspace, user, data) -> None:
    assert rejection(workspace, user, data) == "This file isn't a JPEG, PNG or WebP image."


def test_png_is_refused_when_rules_allow_only_jpeg(workspace, user) -> None:
    only_jpeg = ImageRules(formats=("JPEG",))
    assert rejection(workspace, user, encoded(fmt="PNG"), only_jpeg) == (
        "This file isn't a JPEG image."
    )


def test_truncated_jpeg_is_refused_as_damaged(workspace, user) -> None:
    whole = encoded(size=(800, 600))
    assert "damaged" in rejection(workspace, user, whole[: len(whole) // 2])


def test_empty_file_is_refused(workspace, user) -> None:
    assert rejection(workspace, user, b"") == "This file is empty."


def test_file_over_max_bytes_is_refused(workspace, user) -> None:
    small_cap = ImageRules(max_bytes=1024 * 1024)
    message = rejection(workspace, user, encoded() + b"\x00" * (1024 * 1024), small_cap)
    assert message == "This image is larger than 1 MB, the most we accept."


def test_too_small_image_is_refused_in_plain_words(workspace, user) -> None:
    assert rejection(workspace, user, encoded(size=(180, 180))) == (
        "This image is 180\N{MULTIPLICATION SIGN}180 pixels; "
        "it needs to be at least 300 pixels on each side."
    )


@pytest.mark.parametrize(("size", "word"), [((1600, 400), "wide"), ((400, 1600), "tall")])
def test_aspect_ratio_out_of_range_is_refused(workspace, user, size, word) -> None:
    assert f"too {word}" in rejection(workspace, user, encoded(size=size))


def test_aspect_ratio_is_judged_after_exif_rotation(workspace, user) -> None:
    exif = Pillow.Exif()
    exif[ExifTags.Base.Orientation] = 6  # 300x900 stored, 900x300 shown: 3.0 is too wide
    assert "too wide" in rejection(workspace, user, encoded(size=(300, 900), exif=exif.tobytes()))


# --- links ---------------------------------------------------------------------------------


@pytest.fixture
def image_server(settings) -> Iterator[str]:
    bodies = {
        "/frame.png": (encoded(fmt="PNG"), "image/png"),
        "/page": (b"<html></html>", "text/html"),
    }

    def app(environ, start_response):
        body, content_type = bodies[environ["PATH_INFO"]]
        start_response(
            "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        )
        return [body]

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    settings.STUDIO_OUTBOUND_ALLOW = [f"127.0.0.1:{httpd.port}"]
    yield f"http://127.0.0.1:{httpd.port}"
    httpd.shutdown()
    httpd.server_close()


def test_image_link_is_fetched_and_stored_like_an_upload(workspace, user, image_server) -> None:
    url = f"{image_server}/frame.png"
    image = accept_url(workspace=workspace, user=user, url=url, rules=RULES)
    assert (image.width, image.height, image.content_type) == (640, 480, "image/jpeg")
    assert image.original_name == "frame.png"


def test_link_to_a_web_page_is_refused(workspace, user, image_server) -> None:
    with pytest.raises(ImageRejected) as caught:
        accept_url(workspace=workspace, user=user, url=f"{image_server}/page", rules=RULES)
    assert caught.value.message == "That link doesn't lead to a JPEG, PNG or WebP image."


def test_link_to_this_machine_is_refused_before_connecting(
    workspace, user, settings, monkeypatch
) -> None:
    settings.STUDIO_OUTBOUND_ALLOW = []
    attempts: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: attempts.append(address))
    with pytest.raises(ImageRejected) as caught:
        accept_url(workspace=workspace, user=user, url="http://127.0.0.1:8765/a.png", rules=RULES)
    assert isinstance(caught.value.__cause__, http.Refused)
    assert "public https://" in caught.value.message
    assert attempts == []
    assert not Image.objects.exists()


# --- what providers get ----------------------------------------------------------------------


def test_provider_input_is_an_absolute_signed_link_and_the_bytes(
    workspace, user, settings, client
) -> None:
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    image = accept_upload(workspace=workspace, user=user, upload=upload(encoded()), rules=RULES)
    given = provider_input(image, timezone.now())
    assert given.url.startswith("https://studio.example.com/media/for-provider/")
    assert (given.data, given.content_type) == (stored_bytes(image), "image/jpeg")
    served = client.get(given.url.removeprefix("https://studio.example.com"))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == given.data


def test_a_provider_link_expires_after_a_day(workspace, user, settings, client) -> None:
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    image = accept_upload(workspace=workspace, user=user, upload=upload(encoded()), rules=RULES)
    old = provider_input(image, timezone.now() - timedelta(hours=25))
    assert client.get(old.url.removeprefix("https://studio.example.com")).status_code == 404
