"""Tenant isolation: every URL that takes an object id answers 404 for another
workspace's objects, for every method, without a hint that the object exists.

The list of routes is read from the URLconf, so a new route with an id fails this
test until it is added to OBJECTS below (with the object it should be tried with).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from studio.generation.models import Clip, ProviderAccount, Status
from studio.generation.services import transition
from tests import factories

pytestmark = pytest.mark.django_db

# route name -> which of workspace B's objects to put in the URL
OBJECTS: dict[str, str] = {
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
}


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _routes(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and "<uuid:" in str(entry.pattern):
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
    return {
        "workspace": b.workspace,
        "project": take.shot.project,
        "shot": take.shot,
        "take": take,
        "account": account,
        "membership": b,
    }


@pytest.mark.parametrize("route", id_routes())
def test_a_user_of_workspace_a_gets_404_for_workspace_b_objects(route, objects_of_b, client):
    a = factories.owner("Owner A")
    client.force_login(a.user)
    url = reverse(route, args=[objects_of_b[OBJECTS[route]].pk])
    answers = {client.get(url).status_code, client.post(url, {}).status_code}
    # A view that only accepts one method answers the other with 405; the one it
    # accepts must say 404. Nothing may succeed, redirect or admit the object exists.
    assert answers <= {404, 405}, f"{route}: {answers}"
    assert 404 in answers
