from __future__ import annotations

import pytest
from django.db import IntegrityError

from studio.accounts.roles import Role
from studio.generation import pipeline
from studio.review import services
from studio.review.mentions import find_mentions, render_mentions
from studio.review.models import (
    Comment,
    Decision,
    Kind,
    Notification,
    Outcome,
    Selection,
    Verdict,
    takes_with_outcome,
)
from tests import factories
from tests.review.helpers import finished_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(owner):
    return {
        "owner": owner,
        "editor": factories.member(owner.workspace, Role.EDITOR, name="Ana Lima"),
        "reviewer": factories.member(owner.workspace, Role.REVIEWER, name="Bo"),
    }


def kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_comment_is_pinned_inside_the_clip(owner):
    take = finished_take(owner, duration=5.0)
    early = services.add_comment(take=take, body="a", timecode_ms=-30, author=owner.user)
    late = services.add_comment(take=take, body="b", timecode_ms=99_000, author=owner.user)
    assert (early.timecode_ms, late.timecode_ms) == (0, 5000)


def test_a_reply_to_a_reply_joins_the_thread_and_has_no_timecode(owner):
    take = finished_take(owner)
    root = services.add_comment(take=take, body="root", timecode_ms=1200, author=owner.user)
    reply = services.add_comment(take=take, body="r1", parent=root, author=owner.user)
    deeper = services.add_comment(take=take, body="r2", parent=reply, author=owner.user)
    assert deeper.parent_id == root.pk
    assert deeper.timecode_ms is None
    assert list(Comment.objects.filter(take=take).threads()) == [root]


def test_a_comment_is_by_a_member_or_a_guest_never_both(owner):
    take = finished_take(owner)
    with pytest.raises(IntegrityError):
        Comment.objects.create(
            workspace=owner.workspace, take=take, body="x", author=owner.user, guest_name="Eve"
        )


def test_mentions_find_members_by_name_with_spaces_and_any_case(team):
    people = [team["owner"].user, team["editor"].user, team["reviewer"].user]
    found = find_mentions("@ana lima and @Bo, not @Bob or mail@Bo", people)
    assert found == [team["editor"].user, team["reviewer"].user]


def test_a_mention_notifies_the_member_and_the_take_creator_hears_of_the_comment(team):
    take = finished_take(team["owner"])
    comment = services.add_comment(
        take=take, body="@Ana Lima look at the hands", timecode_ms=0, author=team["reviewer"].user
    )
    assert [m.user for m in comment.mentions.all()] == [team["editor"].user]
    assert kinds(team["editor"].user) == [Kind.MENTION]
    assert kinds(team["owner"].user) == [Kind.COMMENT]
    assert kinds(team["reviewer"].user) == []  # never about your own comment


def test_a_reply_notifies_the_people_in_the_thread_once_each(team):
    take = finished_take(team["owner"])
    root = services.add_comment(take=take, body="root", timecode_ms=0, author=team["editor"].user)
    services.add_comment(take=take, body="me too", parent=root, author=team["reviewer"].user)
    services.add_comment(take=take, body="@Bo thanks", parent=root, author=team["editor"].user)
    assert kinds(team["reviewer"].user) == [Kind.MENTION]
    assert kinds(team["editor"].user) == [Kind.REPLY]
    assert kinds(team["owner"].user) == [Kind.COMMENT, Kind.COMMENT, Kind.COMMENT]


def test_guests_cannot_mention_and_their_comments_still_reach_the_creator(team):
    take = finished_take(team["owner"])
    services.add_comment(take=take, body="@Ana Lima hi", timecode_ms=0, guest_name="Client")
    assert kinds(team["editor"].user) == []
    note = Notification.objects.get(recipient=team["owner"].user)
    assert (note.actor, note.actor_name, note.kind) == (None, "Client", Kind.COMMENT)


def test_people_who_left_the_workspace_are_not_notified(team):
    take = finished_take(team["owner"])
    team["editor"].delete()
    services.add_comment(take=take, body="@Ana Lima", timecode_ms=0, author=team["owner"].user)
    assert kinds(team["editor"].user) == []


def test_resolving_a_reply_resolves_its_thread_and_it_can_be_reopened(owner):
    take = finished_take(owner)
    root = services.add_comment(take=take, body="root", timecode_ms=0, author=owner.user)
    reply = services.add_comment(take=take, body="done", parent=root, author=owner.user)
    services.set_resolved(reply, owner.user, True)
    root.refresh_from_db()
    assert root.resolved_by == owner.user
    assert not Comment.objects.filter(take=take).open().exists()
    services.set_resolved(root, owner.user, False)
    assert list(Comment.objects.filter(take=take).open()) == [root]


def test_a_reviewer_has_one_decision_per_take_and_can_change_it(team):
    take = finished_take(team["owner"])
    reviewer = team["reviewer"].user
    services.decide(take, reviewer, Verdict.REJECTED)
    services.decide(take, reviewer, Verdict.APPROVED)
    assert list(Decision.objects.filter(take=take).values_list("verdict", flat=True)) == [
        Verdict.APPROVED
    ]
    with pytest.raises(IntegrityError):
        Decision.objects.create(
            workspace=take.workspace, take=take, reviewer=reviewer, verdict=Verdict.REJECTED
        )


def test_the_creator_hears_of_a_decision_only_when_it_changes(team):
    take = finished_take(team["owner"])
    for verdict in (Verdict.APPROVED, Verdict.APPROVED, Verdict.REJECTED):
        services.decide(take, team["reviewer"].user, verdict)
    services.decide(take, team["owner"].user, Verdict.APPROVED)  # their own take: no news
    notes = Notification.objects.filter(recipient=team["owner"].user).order_by("created_at")
    assert [n.verdict for n in notes] == [Verdict.APPROVED, Verdict.REJECTED]


@pytest.mark.parametrize(
    ("verdicts", "outcome"),
    [
        ((), Outcome.UNDECIDED),
        ((Verdict.APPROVED,), Outcome.APPROVED),
        ((Verdict.APPROVED, Verdict.CHANGES_REQUESTED), Outcome.CHANGES_REQUESTED),
        ((Verdict.APPROVED, Verdict.CHANGES_REQUESTED, Verdict.REJECTED), Outcome.REJECTED),
    ],
)
def test_the_worst_verdict_decides_the_outcome_in_python_and_in_sql(team, verdicts, outcome):
    take = finished_take(team["owner"])
    people = [team["owner"].user, team["editor"].user, team["reviewer"].user]
    for person, verdict in zip(people, verdicts, strict=False):
        services.decide(take, person, verdict)
    assert Outcome.of(verdicts) == outcome
    takes = type(take).objects.filter(pk=take.pk)
    assert [o for o in Outcome if takes_with_outcome(takes, o).exists()] == [outcome]


def test_a_shot_has_one_selected_take(owner):
    first = finished_take(owner)
    second = finished_take(owner, shot_=first.shot)
    services.select_take(first, owner.user)
    services.select_take(second, owner.user)
    assert Selection.objects.get(shot=first.shot).take == second
    services.clear_selection(second)
    assert not Selection.objects.exists()


def test_a_take_without_a_clip_cannot_be_selected(owner):
    with pytest.raises(services.ReviewRefused):
        services.select_take(factories.take(owner), owner.user)


def test_the_creator_hears_when_a_take_is_ready(owner, django_capture_on_commit_callbacks):
    take = factories.take(owner)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.advance(str(take.pk))  # Preview renders it here, in this process
    note = Notification.objects.get(recipient=owner.user)
    assert (note.kind, note.take_id) == (Kind.TAKE_READY, take.pk)


def test_mentions_render_escaped_with_only_our_markup():
    html = render_mentions('<b>hi</b> @Ana Lima & "@Bo"', ["Ana Lima", "Bo"])
    assert html == (
        '&lt;b&gt;hi&lt;/b&gt; <span class="mention">@Ana Lima</span> &amp; '
        '&quot;<span class="mention">@Bo</span>&quot;'
    )
