"""Everything the review panel of one take shows, for a member or for a guest.

The take page (through the ``review_for`` template tag), the HTMX endpoints that
re-render parts of the panel and the guest pages all build it here, so they show the
same thing in the same number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from studio.accounts.models import Membership, User
from studio.accounts.roles import Action
from studio.generation.models import Clip, Generation
from studio.review.models import (
    Comment,
    Decision,
    DecisionSummary,
    GuestLink,
    Selection,
)


@dataclass
class TakeReview:
    take: Generation
    clip: Clip | None
    threads: list[Comment]
    comment_url: str
    can_comment: bool = False
    can_decide: bool = False
    can_select: bool = False
    can_share: bool = False
    can_generate: bool = False
    decisions: list[Decision] = field(default_factory=list)
    my_verdict: str = ""
    selected: bool = False
    siblings: list[Generation] = field(default_factory=list)  # for "Compare with take N"
    guest_links: list[GuestLink] = field(default_factory=list)
    member_names: list[str] = field(default_factory=list)  # for @mention hints
    guest: GuestLink | None = None
    guest_name: str = ""

    @property
    def summary(self) -> DecisionSummary:
        return DecisionSummary.of(self.decisions)

    @property
    def open_count(self) -> int:
        return sum(1 for thread in self.threads if not thread.resolved_at)

    @property
    def open_threads(self) -> list[Comment]:
        return [thread for thread in self.threads if not thread.resolved_at]

    @property
    def fps(self) -> float:
        return self.clip.fps if self.clip else 24.0


def _threads(take: Generation) -> list[Comment]:
    return list(Comment.objects.filter(take=take).threads())


def for_member(take: Generation, membership: Membership, user: User) -> TakeReview:
    decisions = list(Decision.objects.filter(take=take).select_related("reviewer"))
    can_share = membership.can(Action.SHARE)
    return TakeReview(
        take=take,
        clip=take.video,
        threads=_threads(take),
        comment_url=reverse("review:comment", args=[take.pk]),
        can_comment=membership.can(Action.COMMENT),
        can_decide=membership.can(Action.DECIDE),
        can_select=membership.can(Action.EDIT),
        can_share=can_share,
        can_generate=membership.can(Action.GENERATE),
        decisions=decisions,
        my_verdict=next((d.verdict for d in decisions if d.reviewer_id == user.pk), ""),
        selected=Selection.objects.filter(take=take).exists(),
        siblings=list(
            Generation.objects.filter(shot_id=take.shot_id)
            .with_clip()
            .exclude(pk=take.pk)
            .order_by("-number")
        ),
        guest_links=list(GuestLink.objects.filter(take=take).active()) if can_share else [],
        member_names=sorted(
            User.objects.filter(memberships__workspace_id=take.workspace_id)
            .exclude(pk=user.pk)
            .values_list("name", flat=True)
        ),
    )


def for_guest(take: Generation, link: GuestLink, guest_name: str) -> TakeReview:
    return TakeReview(
        take=take,
        clip=take.video,
        threads=_threads(take),
        comment_url=reverse("guest:comment", args=[link.token, take.pk]),
        can_comment=True,
        guest=link,
        guest_name=guest_name,
    )
