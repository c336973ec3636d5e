import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.generation.models import Clip, Generation, Status
from studio.generation.services import transition
from studio.providers.catalog import Params
from tests import factories

pytestmark = pytest.mark.django_db


def ready(take):
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    transition(take.pk, Status.SUBMITTING, Status.DOWNLOADING)
    transition(take.pk, Status.DOWNLOADING, Status.SUCCEEDED)
    Clip.objects.create(
        generation=take,
        workspace_id=take.workspace_id,
        file=f"{take.pk}.mp4",
        poster=f"{take.pk}.jpg",
        size_bytes=1,
        duration_seconds=5,
        width=1280,
        height=720,
        video_codec="h264",
        audio_codec="aac",
        has_audio=True,
    )
    return take


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_gallery_costs_the_same_number_of_queries_for_3_or_24_cards(owner_client, owner):
    shot = factories.shot(owner.workspace)
    for take in factories.takes(owner, shot_=shot, count=3):
        ready(take)
    few = queries_for(owner_client, reverse("gallery:index"))
    for take in factories.takes(owner, shot_=shot, count=4):
        ready(take)
    other = factories.shot(owner.workspace, project_=factories.project(owner.workspace, "Other"))
    for _ in range(17):
        factories.take(owner, shot_=other)
    many = queries_for(owner_client, reverse("gallery:index"))
    assert Generation.objects.count() == 24
    assert many == few


def test_the_gallery_is_newest_first_and_paginated(owner_client, owner):
    shot = factories.shot(owner.workspace)
    for _ in range(6):
        factories.takes(owner, shot_=shot, count=4)
    page1 = owner_client.get(reverse("gallery:index")).context["page"]
    assert page1.paginator.count == 24 and len(page1.object_list) == 24
    factories.take(owner, shot_=shot)
    page2 = owner_client.get(reverse("gallery:index") + "?page=2").context["page"]
    assert len(page2.object_list) == 1
    assert page2.object_list[0].number == 1  # the oldest take is last


def test_filters_by_project_model_and_status(owner_client, owner):
    launch = factories.shot(owner.workspace, project_=factories.project(owner.workspace, "Launch"))
    teaser = factories.shot(owner.workspace, project_=factories.project(owner.workspace, "Teaser"))
    done = ready(
        factories.take(
            owner, shot_=launch, model="kling-3.0", params=Params(5, "16:9", "720p", True)
        )
    )
    waiting = factories.take(owner, shot_=teaser)

    def shown(query):
        page = owner_client.get(reverse("gallery:index") + query).context["page"]
        return {take.pk for take in page.object_list}

    assert shown(f"?project={launch.project_id}") == {done.pk}
    assert shown("?model=kling-3.0") == {done.pk}
    assert shown("?status=ready") == {done.pk}
    assert shown("?status=working") == {waiting.pk}


def test_an_empty_gallery_invites_the_first_prompt(owner_client):
    page = owner_client.get(reverse("gallery:index")).content.decode()
    assert "No clips yet" in page and "Write your first prompt" in page


def test_a_take_page_shows_the_whole_recipe_and_remix_prefills_the_builder(owner_client, owner):
    take = ready(factories.take(owner))
    page = owner_client.get(take.get_absolute_url()).content.decode()
    for text in (
        "A barista",
        "pours latte art and smiles",
        "a sunny café",
        "Good morning!",
        "café murmur",
        "Kling 2.6 Pro",
        "16:9",
        "1080p",
    ):
        assert text in page
    remix = owner_client.get(f"{take.shot.get_absolute_url()}?from={take.pk}")
    form = remix.context["form"]
    assert form.initial["subject"] == "A barista"
    assert form.initial["dialogue"] == [
        {"speaker": "Barista", "line": "Good morning!", "delivery": "warm"}
    ]


def test_remix_from_a_take_that_is_not_a_take_answers_404(owner_client, owner):
    shot = factories.shot(owner.workspace)
    assert owner_client.get(f"{shot.get_absolute_url()}?from=not-a-take").status_code == 404
