from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.accounts.roles import Role
from studio.review import services
from studio.review.models import Comment, Decision, Notification, Verdict
from tests import factories
from tests.review.helpers import finished_take

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def take(owner):
    return finished_take(owner)


def test_a_comment_posted_with_htmx_comes_back_in_the_list_at_its_timecode(owner_client, take):
    url = reverse("review:comment", args=[take.pk])
    response = owner_client.post(url, {"body": "Hands!", "at": "2.5"}, **HTMX)
    assert response.status_code == 200
    comment = Comment.objects.get(take=take)
    assert comment.timecode_ms == 2500
    html = response.content.decode()
    assert 'data-seek-ms="2500"' in html and "00:00:02:12" in html and "Hands!" in html


def test_a_comment_without_javascript_lands_on_its_thread(owner_client, take):
    response = owner_client.post(reverse("review:comment", args=[take.pk]), {"body": "Hi"})
    comment = Comment.objects.get(take=take)
    assert response["Location"] == f"{take.get_absolute_url()}#comment-{comment.pk}"


def test_an_empty_comment_is_refused_next_to_the_field(owner_client, take):
    url = reverse("review:comment", args=[take.pk])
    response = owner_client.post(url, {"body": "  "}, **HTMX)
    assert "Write something first." in response.content.decode()
    assert not Comment.objects.exists()


def test_a_reply_cannot_point_at_another_takes_comment(owner_client, owner, take):
    elsewhere = finished_take(owner)
    root = services.add_comment(take=elsewhere, body="x", timecode_ms=0, author=owner.user)
    url = reverse("review:comment", args=[take.pk])
    owner_client.post(url, {"body": "y", "parent": str(root.pk)}, **HTMX)
    assert not Comment.objects.filter(take=take).exists()


def test_deciding_shows_the_summary_with_names(client, owner, take):
    reviewer = factories.member(owner.workspace, Role.REVIEWER, name="Rae")
    client.force_login(reviewer.user)
    url = reverse("review:decide", args=[take.pk])
    client.post(url, {"verdict": Verdict.CHANGES_REQUESTED}, **HTMX)
    response = client.post(url, {"verdict": Verdict.APPROVED}, **HTMX)
    html = response.content.decode()
    assert "✓ 1" in html and "✎ 0" in html
    assert "Approved by Rae; changes requested by nobody; rejected by nobody." in html
    assert Decision.objects.get().verdict == Verdict.APPROVED


def test_the_take_page_shows_the_review_panel_player_and_actions(owner_client, owner, take):
    other = finished_take(owner, shot_=take.shot)
    services.add_comment(take=take, body="Too fast", timecode_ms=1000, author=owner.user)
    html = owner_client.get(take.get_absolute_url()).content.decode()
    assert 'id="player"' in html and "data-review-player" in html
    assert "Too fast" in html and 'id="comment-form"' in html
    assert f"?a={take.pk}&amp;b={other.pk}" in html  # "Compare with take 2"
    assert f"?from={take.pk}" in html and "Revise · 1 open note" in html


def test_a_viewer_sees_comments_but_no_forms(client, owner, take):
    viewer = factories.member(owner.workspace, Role.VIEWER)
    services.add_comment(take=take, body="Too fast", timecode_ms=0, author=owner.user)
    client.force_login(viewer.user)
    html = client.get(take.get_absolute_url()).content.decode()
    assert "Too fast" in html
    for form in ('id="comment-form"', "review:decide", "Select this take", "New review link"):
        assert form not in html
    assert "/decide/" not in html and "/select/" not in html


def test_selecting_a_take_marks_it_on_the_cards(owner_client, take):
    owner_client.post(reverse("review:select", args=[take.pk]))
    assert "★ Selected" in owner_client.get(reverse("gallery:index")).content.decode()


def test_the_gallery_filters_by_review_outcome(owner_client, owner):
    approved, rejected = finished_take(owner), finished_take(owner)
    services.decide(approved, owner.user, Verdict.APPROVED)
    services.decide(rejected, owner.user, Verdict.REJECTED)
    response = owner_client.get(reverse("gallery:index"), {"review": "approved"})
    assert list(response.context["page"].object_list) == [approved]
    response = owner_client.get(reverse("gallery:index"), {"review": "undecided"})
    assert list(response.context["page"].object_list) == []


def _gallery_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("gallery:index")).status_code == 200
    return len(queries)


def test_the_gallery_query_count_does_not_grow_with_the_page(owner_client, owner):
    reviewer = factories.member(owner.workspace, Role.REVIEWER)

    def add(n):
        for _ in range(n):
            take = finished_take(owner)
            services.decide(take, reviewer.user, Verdict.APPROVED)
            services.select_take(take, owner.user)

    add(2)
    few = _gallery_queries(owner_client)
    add(6)
    assert _gallery_queries(owner_client) == few


def test_compare_shows_what_changed_word_by_word(owner_client, owner):
    first = finished_take(owner)
    fields = dataclasses.replace(factories.SCENE, setting="a rainy café")
    second = finished_take(owner, shot_=first.shot, fields=fields)
    url = reverse("review:compare")
    response = owner_client.get(url, {"a": first.pk, "b": second.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<del>sunny</del>" in html and "<ins>rainy</ins>" in html
    assert 'id="player-a"' in html and 'id="player-b"' in html


def test_compare_without_a_second_take_picks_the_previous_one(owner_client, owner):
    first = finished_take(owner)
    second = finished_take(owner, shot_=first.shot)
    response = owner_client.get(reverse("review:compare"), {"a": second.pk})
    assert response["Location"] == f"{reverse('review:compare')}?a={first.pk}&b={second.pk}"


def test_compare_never_shows_another_workspaces_take(owner_client, owner):
    mine = finished_take(owner)
    theirs = finished_take(factories.owner())
    url = reverse("review:compare")
    assert owner_client.get(url, {"a": theirs.pk}).status_code == 404
    assert owner_client.get(url, {"a": mine.pk, "b": theirs.pk}).status_code == 404
    assert owner_client.get(url, {"a": "not-an-id"}).status_code == 404


def test_the_builder_opened_from_a_take_shows_its_open_comments(owner_client, owner, take):
    services.add_comment(take=take, body="Slower pour", timecode_ms=0, author=owner.user)
    done = services.add_comment(take=take, body="Old note", timecode_ms=0, author=owner.user)
    services.set_resolved(done, owner.user, True)
    html = owner_client.get(f"{take.shot.get_absolute_url()}?from={take.pk}").content.decode()
    assert f"Revising take {take.number}" in html
    assert "Slower pour" in html and "Old note" not in html


def test_the_inbox_counts_unread_and_opening_one_marks_it_read(client, owner, take):
    reviewer = factories.member(owner.workspace, Role.REVIEWER)
    services.add_comment(take=take, body="Hi", timecode_ms=0, author=reviewer.user)
    client.force_login(owner.user)
    html = client.get(reverse("review:inbox")).content.decode()
    assert 'id="unread-count"' in html
    note = Notification.objects.get(recipient=owner.user)
    response = client.get(reverse("review:open_notification", args=[note.pk]))
    assert response["Location"].startswith(take.get_absolute_url())
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'id="unread-count"' not in client.get(reverse("review:inbox")).content.decode()


def test_someone_elses_notification_is_not_found(client, owner, take):
    reviewer = factories.member(owner.workspace, Role.REVIEWER)
    services.add_comment(take=take, body="Hi", timecode_ms=0, author=reviewer.user)
    client.force_login(reviewer.user)
    note = Notification.objects.get(recipient=owner.user)
    assert client.get(reverse("review:open_notification", args=[note.pk])).status_code == 404


def test_the_dashboard_shows_cost_per_approved_second(owner_client, owner):
    from studio.billing import services as billing
    from tests.review.helpers import finish

    take = finish(factories.take(owner, provider="fal"), duration=5)
    billing.settle(take, 1_000_000)
    services.decide(take, owner.user, Verdict.APPROVED)
    html = owner_client.get(reverse("spend:dashboard")).content.decode()
    assert "$1.00" in html and "$0.20" in html  # per approved second
