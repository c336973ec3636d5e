"""User text stays text: comments, guest names, member names and prompts holding script
or htmx attributes render inert on every review page, for members and for guests.

Each page is parsed with html.parser; the check fails on any <script> that is not one
of our own static files, any on* attribute, and any htmx attribute or element that the
payloads would have created.
"""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from studio.accounts.roles import Role
from studio.prompts.fields import DialogueLine
from studio.review import services
from studio.review.models import Verdict
from tests import factories
from tests.review.helpers import finished_take

pytestmark = pytest.mark.django_db

PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<div hx-get="/accounts/logout/" hx-trigger="load">',
    '" onmouseover="x',
)
EVIL = " ".join(PAYLOADS)


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, dict(attrs)))


def injected(html: str) -> list[str]:
    """What in the page came from the payloads instead of from our templates."""
    parser = Elements()
    parser.feed(html)
    problems = []
    for tag, attrs in parser.found:
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            problems.append(f"<script> {attrs}")
        if tag == "img" and attrs.get("src") == "x":
            problems.append(f"<img> {attrs}")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag} {name}={value!r}>")
            if name.startswith(("hx-", "data-hx-")) and "logout" in (value or ""):
                problems.append(f"<{tag} {name}={value!r}>")
            if name == "hx-trigger" and value == "load":
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


@pytest.fixture
def hostile(owner):
    """A workspace where every piece of user text is a payload."""
    owner.user.name = EVIL[:80]  # the column holds 80 characters (PostgreSQL enforces it)
    owner.user.save()
    member = factories.member(owner.workspace, Role.REVIEWER, name=f"Rae {PAYLOADS[1]}")
    fields = dataclasses.replace(
        factories.SCENE,
        subject=EVIL,
        setting=PAYLOADS[2],
        dialogue=(DialogueLine(PAYLOADS[0], EVIL, PAYLOADS[3]),),
    )
    first = finished_take(owner, fields=fields)
    second = finished_take(owner, shot_=first.shot)
    root = services.add_comment(
        take=first, body=f"{EVIL} @{member.user.name}", timecode_ms=500, author=owner.user
    )
    services.add_comment(take=first, body=EVIL, parent=root, author=member.user)
    services.add_comment(take=first, body=EVIL, timecode_ms=900, guest_name=EVIL[:80])
    services.decide(first, member.user, Verdict.APPROVED)
    services.decide(first, owner.user, Verdict.REJECTED)
    link = services.create_guest_link(created_by=owner.user, take=first, label=EVIL[:80])
    return {"owner": owner, "first": first, "second": second, "link": link}


def pages(hostile) -> dict[str, str]:
    first, second = hostile["first"], hostile["second"]
    return {
        "take": first.get_absolute_url(),
        "gallery": reverse("gallery:index"),
        "compare": f"{reverse('review:compare')}?a={first.pk}&b={second.pk}",
        "builder": f"{first.shot.get_absolute_url()}?from={first.pk}",
        "members": reverse("members:index"),
        "inbox": reverse("review:inbox"),
    }


@pytest.mark.parametrize("page", ["take", "gallery", "compare", "builder", "members", "inbox"])
def test_member_pages_render_user_text_inert(client, hostile, page):
    client.force_login(hostile["owner"].user)
    response = client.get(pages(hostile)[page])
    assert response.status_code == 200
    html = response.content.decode()
    assert injected(html) == []
    assert "alert(1)" in html  # the payload is on the page, as text


def test_a_mention_from_a_hostile_name_renders_inert_in_the_inbox(client, hostile):
    reviewer = hostile["owner"].workspace.memberships.get(role=Role.REVIEWER).user
    client.force_login(reviewer)  # the owner (named EVIL) mentioned them
    html = client.get(reverse("review:inbox")).content.decode()
    assert "mentioned you" in html
    assert injected(html) == []


def test_guest_pages_render_user_text_inert(client, hostile):
    html = client.get(hostile["link"].get_absolute_url()).content.decode()
    assert injected(html) == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_guest_name_full_of_markup_stays_text(client, hostile):
    link, take = hostile["link"], hostile["first"]
    url = reverse("guest:comment", args=[link.token, take.pk])
    client.post(url, {"name": PAYLOADS[2], "body": PAYLOADS[3]}, HTTP_HX_REQUEST="true")
    html = client.get(link.get_absolute_url()).content.decode()
    assert injected(html) == []


def test_user_text_sits_inside_hx_disable(client, hostile):
    """A second line of defence: htmx ignores anything under an hx-disable element."""
    client.force_login(hostile["owner"].user)
    html = client.get(hostile["first"].get_absolute_url()).content.decode()
    parser = Elements()
    parser.feed(html)
    bodies = [attrs for tag, attrs in parser.found if "comment-body" in (attrs.get("class") or "")]
    assert bodies and all("hx-disable" in attrs for attrs in bodies)
