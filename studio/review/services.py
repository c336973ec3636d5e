"""Review workflows: comment, resolve, decide, select, share, notify, digest, and what
the review outcome says about spend.

Views check who may do what (``accounts.access``); these functions trust their caller
and keep the rules that hold whoever calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from studio.accounts.models import User
from studio.billing.models import LedgerEntry
from studio.generation.models import Clip, Generation
from studio.review.mentions import find_mentions
from studio.review.models import (
    Comment,
    Decision,
    Digest,
    GuestLink,
    Kind,
    Mention,
    Notification,
    NotificationSettings,
    Outcome,
    Selection,
)

DIGEST_INTERVAL = {Digest.HOURLY: timedelta(hours=1), Digest.DAILY: timedelta(days=1)}
DIGEST_MAX_ITEMS = 50
GUEST_LINK_DAYS = (1, 7, 30, 90)


class ReviewRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- comments ---------------------------------------------------------------------------


def _members(workspace_id) -> list[User]:
    return list(User.objects.filter(memberships__workspace_id=workspace_id, is_active=True))


@transaction.atomic
def add_comment(
    *,
    take: Generation,
    body: str,
    timecode_ms: int | None = None,
    parent: Comment | None = None,
    author: User | None = None,
    guest_name: str = "",
    guest_link: GuestLink | None = None,
) -> Comment:
    """A comment at ``timecode_ms`` of the take's clip, or a reply to ``parent``'s thread.

    Members named with @ (members only: guests do not see the team) and the people in
    the thread are notified, and so is the take's creator.
    """
    if parent is not None:
        parent = parent.parent or parent  # one level of threads
        timecode_ms = None
    else:
        clip = take.video
        limit = round(clip.duration_seconds * 1000) if clip else 0
        timecode_ms = min(max(timecode_ms or 0, 0), limit)
    comment = Comment.objects.create(
        workspace_id=take.workspace_id,
        take=take,
        parent=parent,
        author=author,
        guest_name="" if author else guest_name,
        guest_link=guest_link,
        timecode_ms=timecode_ms,
        body=body,
    )
    mentioned = []
    if author is not None:
        mentioned = [u for u in find_mentions(body, _members(take.workspace_id)) if u != author]
        Mention.objects.bulk_create(
            Mention(workspace_id=take.workspace_id, comment=comment, user=u) for u in mentioned
        )
    _notify_comment(comment, mentioned)
    return comment


def _notify_comment(comment: Comment, mentioned: list[User]) -> None:
    # One notification per person per comment; the most specific reason wins.
    reasons: dict[int, str] = {user.pk: Kind.MENTION for user in mentioned}
    if comment.parent_id:
        thread = Comment.objects.filter(pk=comment.parent_id) | comment.parent.replies.all()
        for author_id in thread.values_list("author_id", flat=True):
            if author_id:
                reasons.setdefault(author_id, Kind.REPLY)
    if comment.take.created_by_id:
        reasons.setdefault(comment.take.created_by_id, Kind.COMMENT)
    reasons.pop(comment.author_id, None)
    _notify(
        comment.take, reasons, comment=comment, actor=comment.author, actor_name=comment.guest_name
    )


def _notify(take: Generation, reasons: dict[int, str], **fields) -> None:
    """Write the notifications, only for people who are still members of the workspace."""
    members = set(
        User.objects.filter(
            pk__in=reasons, memberships__workspace_id=take.workspace_id
        ).values_list("pk", flat=True)
    )
    Notification.objects.bulk_create(
        Notification(
            workspace_id=take.workspace_id, recipient_id=pk, kind=kind, take=take, **fields
        )
        for pk, kind in reasons.items()
        if pk in members
    )


def set_resolved(comment: Comment, user: User, resolved: bool) -> Comment:
    """Resolve or reopen a thread (a reply resolves the thread it belongs to)."""
    thread = comment.parent or comment
    thread.resolved_at = timezone.now() if resolved else None
    thread.resolved_by = user if resolved else None
    thread.save(update_fields=["resolved_at", "resolved_by"])
    return thread


# --- decisions and selection ------------------------------------------------------------


@transaction.atomic
def decide(take: Generation, reviewer: User, verdict: str) -> Decision:
    """Record or change ``reviewer``'s verdict; the take's creator hears about a change."""
    previous = Decision.objects.filter(take=take, reviewer=reviewer).first()
    decision, _ = Decision.objects.update_or_create(
        take=take,
        reviewer=reviewer,
        defaults={"verdict": verdict, "workspace_id": take.workspace_id},
    )
    if (previous is None or previous.verdict != verdict) and take.created_by_id != reviewer.pk:
        _notify(take, {take.created_by_id: Kind.DECISION}, actor=reviewer, verdict=verdict)
    return decision


def select_take(take: Generation, user: User) -> Selection:
    """Make ``take`` its shot's selected take (replacing the one selected before)."""
    if take.video is None:
        raise ReviewRefused("Only a finished take with a clip can be selected.")
    selection, _ = Selection.objects.update_or_create(
        shot_id=take.shot_id,
        defaults={"take": take, "workspace_id": take.workspace_id, "selected_by": user},
    )
    return selection


def clear_selection(take: Generation) -> None:
    Selection.objects.filter(take=take).delete()


# --- notifications ----------------------------------------------------------------------


def notify_take_ready(take: Generation) -> None:
    if take.created_by_id:
        _notify(take, {take.created_by_id: Kind.TAKE_READY})


def mark_read(user: User, notifications=None) -> int:
    """Mark some (or all) of a person's unread notifications read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notifications is not None:
        unread = unread.filter(pk__in=[n.pk for n in notifications])
    return unread.update(read_at=timezone.now())


def digest_settings(user: User) -> NotificationSettings:
    found, _ = NotificationSettings.objects.get_or_create(user=user)
    return found


def send_digests(now: datetime | None = None) -> int:
    """Email everyone who wants digests ONE message with their unread notifications that
    were not emailed yet, if their last digest is old enough. Returns how many were sent.

    Safe to run twice or concurrently: each person's digest is built and marked inside
    a transaction that locks their settings row, so a notification is emailed at most
    once unless the commit itself fails after the email left (then it goes again).
    """
    now = now or timezone.now()
    waiting = Notification.objects.filter(read_at__isnull=True, emailed_at__isnull=True)
    people = User.objects.filter(pk__in=waiting.values("recipient_id"), is_active=True)
    return sum(_send_digest(user, now) for user in people)


@transaction.atomic
def _send_digest(user: User, now: datetime) -> bool:
    NotificationSettings.objects.get_or_create(user=user)
    prefs = NotificationSettings.objects.select_for_update().get(user=user)
    interval = DIGEST_INTERVAL.get(Digest(prefs.digest))
    if interval is None or (prefs.last_digest_at and now - prefs.last_digest_at < interval):
        return False
    items = list(
        Notification.objects.for_user(user)
        .unread()
        .filter(emailed_at__isnull=True)
        .select_related("take__shot", "actor", "comment")
        .order_by("-created_at")
    )
    if not items:
        return False
    context = {
        "user": user,
        "items": items[:DIGEST_MAX_ITEMS],
        "more": max(len(items) - DIGEST_MAX_ITEMS, 0),
        "site": settings.STUDIO_PUBLIC_URL,
    }
    send_mail(
        subject=f"Studio: {len(items)} new notification{'s' if len(items) != 1 else ''}",
        message=render_to_string("review/digest_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=now)
    prefs.last_digest_at = now
    prefs.save(update_fields=["last_digest_at"])
    return True


# --- guest links ------------------------------------------------------------------------


def create_guest_link(
    *,
    created_by: User,
    take: Generation | None = None,
    project=None,
    days: int = 7,
    password: str = "",
    allow_download: bool = False,
    label: str = "",
) -> GuestLink:
    target = take or project
    link = GuestLink(
        workspace_id=target.workspace_id,
        take=take,
        project=project,
        label=label,
        expires_at=timezone.now() + timedelta(days=days),
        allow_download=allow_download,
        created_by=created_by,
    )
    link.set_password(password)
    link.save()
    return link


def revoke_guest_link(link: GuestLink) -> None:
    GuestLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- spend by review outcome ------------------------------------------------------------


@dataclass(frozen=True)
class SpendByOutcome:
    micros: dict[Outcome, int]  # settled spend per outcome, micro-USD
    takes: dict[Outcome, int]  # how many takes per outcome
    approved_seconds: float

    @property
    def total_micros(self) -> int:
        return sum(self.micros.values())

    @property
    def cost_per_approved_second_micros(self) -> int | None:
        if not self.approved_seconds:
            return None
        return round(self.total_micros / self.approved_seconds)


def spend_by_outcome(workspace, start: datetime, end: datetime) -> SpendByOutcome:
    """Where the money of a period went, by what review made of each take.

    * The period's takes are the paid takes whose spend the ledger recorded between
      ``start`` (included) and ``end`` (excluded), i.e. settled in the period; their
      spend is the sum of their ledger entries' ``spent_delta_micros`` in the period.
      Preview drafts cost nothing and are left out, or free animatics would count as
      approved video.
    * Each take falls under its current outcome (the worst verdict wins: see
      ``models.takes_with_outcome``); takes nobody decided on are "undecided".
    * The cost per approved second is ALL the period's spend (approved, changes
      requested, rejected and undecided takes) divided by the seconds of video of the
      approved takes among them: what one usable second really cost, failures and
      retakes included. It is None while nothing is approved.
    """
    spent = dict(
        LedgerEntry.objects.for_workspace(workspace)
        .filter(created_at__gte=start, created_at__lt=end)
        .exclude(generation__provider="preview")
        .values("generation_id")
        .annotate(spent=Sum("spent_delta_micros"))
        .filter(spent__gt=0)
        .values_list("generation_id", "spent")
    )
    verdicts: dict = {}
    for take_id, verdict in Decision.objects.filter(take_id__in=spent).values_list(
        "take_id", "verdict"
    ):
        verdicts.setdefault(take_id, set()).add(verdict)
    micros = dict.fromkeys(Outcome, 0)
    counts = dict.fromkeys(Outcome, 0)
    approved = []
    for take_id, amount in spent.items():
        outcome = Outcome.of(verdicts.get(take_id, ()))
        micros[outcome] += amount
        counts[outcome] += 1
        if outcome == Outcome.APPROVED:
            approved.append(take_id)
    seconds = Clip.objects.filter(generation_id__in=approved).aggregate(s=Sum("duration_seconds"))
    return SpendByOutcome(micros=micros, takes=counts, approved_seconds=seconds["s"] or 0.0)
