"""Tenant isolation: every URL that takes an object id answers 404 for another
workspace's objects, for every method, without a hint that the object exists.

The list of routes is read from the URLconf, so a new route with an id fails this
test until it is added to OBJECTS below (with the object it should be tried with).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from studio.accounts.roles import Role
from studio.accounts.services import invite
from studio.generation.models import Clip, ProviderAccount, Status
from studio.generation.services import transition
from studio.review import services as review
from studio.review.models import Kind, Notification
from tests import factories

pytestmark = pytest.mark.django_db

# route name -> which of workspace B's objects to put in the URL (several: in order)
OBJECTS: dict[str, str | tuple[str, ...]] = {
    "projects:detail": "project",
    "projects:rename": "project",
    "projects:archive": "project",
    "projects:create_shot": "project",
    "projects:shot": "shot",
    "projects:builder_live_hx": "shot",
    "takes:detail": "take",
    "takes:card_hx": "take",
    "takes:status_hx": "take",
    "takes:cancel": "take",
    "takes:download": "take",
    "providers:update": "account",
    "providers:check": "account",
    "spend:approve": "take",
    "spend:decline": "take",
    "members:change_role": "membership",
    "members:remove": "membership",
    "members:transfer": "membership",
    "members:revoke_invitation": "invitation",
    "review:comment": "take",
    "review:decide": "take",
    "review:select": "take",
    "review:share_take": "take",
    "review:share_project": "project",
    "review:resolve": "comment",
    "review:revoke_link": "link",
    "review:open_notification": "notification",
    # A guest link the visitor holds (of another workspace) cannot open B's take.
    "guest:take": ("foreign_guest_token", "take"),
    "guest:comment": ("foreign_guest_token", "take"),
    "guest:download": ("foreign_guest_token", "take"),
}


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _routes(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and any(
            kind in str(entry.pattern) for kind in ("<uuid:", "<int:")
        ):
            yield f"{prefix}{entry.name}"


def id_routes() -> list[str]:
    return sorted(set(_routes(get_resolver().url_patterns)))


def test_every_route_with_an_object_id_is_in_the_matrix():
    missing = [name for name in id_routes() if name not in OBJECTS]
    assert missing == [], f"add these routes to OBJECTS in {__file__}: {missing}"


@pytest.fixture
def objects_of_b(db):
    b = factories.owner("Owner B")
    take = factories.take(b)
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    transition(take.pk, Status.SUBMITTING, Status.DOWNLOADING)
    transition(take.pk, Status.DOWNLOADING, Status.SUCCEEDED)
    Clip.objects.create(
        generation=take,
        workspace=b.workspace,
        file="x.mp4",
        size_bytes=1,
        duration_seconds=5,
        width=1280,
        height=720,
        video_codec="h264",
    )
    account = ProviderAccount.objects.create(workspace=b.workspace, provider="preview")
    elsewhere = factories.owner("Owner C")
    return {
        "workspace": b.workspace,
        "project": take.shot.project,
        "shot": take.shot,
        "take": take,
        "account": account,
        "membership": b,
        "invitation": invite(workspace=b.workspace, invited_by=b.user, role=Role.VIEWER),
        "comment": review.add_comment(take=take, body="Hi", timecode_ms=0, author=b.user),
        "link": review.create_guest_link(created_by=b.user, take=take, allow_download=True),
        "notification": Notification.objects.create(
            workspace=b.workspace, recipient=b.user, kind=Kind.TAKE_READY, take=take
        ),
        "foreign_guest_token": review.create_guest_link(
            created_by=elsewhere.user, take=factories.take(elsewhere), allow_download=True
        ).token,
    }


@pytest.mark.parametrize("route", id_routes())
def test_a_user_of_workspace_a_gets_404_for_workspace_b_objects(route, objects_of_b, client):
    a = factories.owner("Owner A")
    client.force_login(a.user)
    keys = OBJECTS[route] if isinstance(OBJECTS[route], tuple) else (OBJECTS[route],)
    url = reverse(route, args=[getattr(objects_of_b[k], "pk", objects_of_b[k]) for k in keys])
    answers = {client.get(url).status_code, client.post(url, {}).status_code}
    # A view that only accepts one method answers the other with 405; the one it
    # accepts must say 404. Nothing may succeed, redirect or admit the object exists.
    assert answers <= {404, 405}, f"{route}: {answers}"
    assert 404 in answers
