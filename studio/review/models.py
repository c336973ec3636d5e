"""Team review of takes: comments at a timecode, decisions, the selected take,
notifications and guest review links.

Every model carries ``workspace`` (repeating the take's or project's) so that views
fetch them through ``accounts.access.get_for_member`` like everything else: an id
from another workspace answers 404. The review app adds rows next to the takes and
shots of other apps and never adds fields to them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from studio.accounts.tokens import sign_id, unsign_id


class CommentQuerySet(models.QuerySet["Comment"]):
    def for_workspace(self, workspace) -> CommentQuerySet:
        return self.filter(workspace=workspace)

    def threads(self) -> CommentQuerySet:
        """Top-level comments by moment, with what their rows show, in constant queries."""
        return (
            self.filter(parent__isnull=True)
            .select_related("author", "resolved_by")
            .prefetch_related(
                "mentions__user",
                models.Prefetch(
                    "replies",
                    queryset=Comment.objects.select_related("author").prefetch_related(
                        "mentions__user"
                    ),
                ),
            )
            .order_by("timecode_ms", "created_at")
        )

    def open(self) -> CommentQuerySet:
        return self.filter(parent__isnull=True, resolved_at__isnull=True)


class Comment(models.Model):
    """A note on a take pinned to a moment of its clip, or a reply in a thread.

    ``timecode_ms`` is whole milliseconds, not a float of seconds and not a frame
    number: integers sort, compare and round-trip through JSON and every database
    exactly; a millisecond is finer than any frame (41.7 ms at 24 fps), so the frame is
    recovered at whatever fps the clip has; and a stored frame number would silently
    point elsewhere if a clip's fps were ever probed again differently. Replies have no
    timecode: they belong to their thread's moment. Threads are one level deep (a reply
    to a reply joins the same thread), which is what review tools do beside a clip a few
    seconds long. A comment is written by a member (``author``) or by a guest through a
    review link (``guest_name``), never both; when a member's account is deleted their
    comments stay, unattributed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    take = models.ForeignKey(
        "generation.Generation", on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    guest_name = models.CharField(max_length=80, blank=True)
    guest_link = models.ForeignKey(
        "GuestLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    timecode_ms = models.PositiveIntegerField(null=True, blank=True)
    body = models.TextField(max_length=4000)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["take", "parent", "timecode_ms"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(author__isnull=False, guest_name__gt=""),
                name="comment_by_member_or_guest",
            ),
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | models.Q(timecode_ms__isnull=True),
                name="replies_have_no_timecode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name} on {self.take_id}"

    def get_absolute_url(self) -> str:
        return f"{reverse('takes:detail', args=[self.take_id])}#comment-{self.thread_id}"

    @property
    def thread_id(self) -> uuid.UUID:
        return self.parent_id or self.pk

    @property
    def author_name(self) -> str:
        if self.author_id:
            return str(self.author)
        return self.guest_name or "Former member"

    @property
    def is_guest(self) -> bool:
        return bool(self.guest_name)


class Mention(models.Model):
    """A member named with @ in a comment: they get a notification and the name is linked."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="one_mention_per_person")
        ]

    def __str__(self) -> str:
        return f"@{self.user} in {self.comment_id}"


class Verdict(models.TextChoices):
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class Outcome(models.TextChoices):
    """Where a take stands once everyone's decisions are counted (see ``Outcome.of``)."""

    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"
    UNDECIDED = "undecided", "Not reviewed yet"

    @classmethod
    def of(cls, verdicts) -> Outcome:
        """The worst verdict wins; see :func:`takes_with_outcome`."""
        verdicts = set(verdicts)
        for worst_first in (cls.REJECTED, cls.CHANGES_REQUESTED, cls.APPROVED):
            if worst_first.value in verdicts:
                return worst_first
        return cls.UNDECIDED


def _has(verdict: str):
    return Exists(Decision.objects.filter(take=OuterRef("pk"), verdict=verdict))


def takes_with_outcome(takes: models.QuerySet, outcome: str) -> models.QuerySet:
    """Filter a queryset of takes by outcome: the worst verdict wins.

    Rejected if anyone rejected it; else changes requested if anyone asked for them;
    else approved if anyone approved; else undecided. So "approved" means everyone
    who decided approved, as in review tools where one "no" stops a version, and a
    reviewer who changes their mind changes the outcome at once. The same rule is
    written for decisions already loaded in :meth:`Outcome.of`.
    """
    rejected, changes, approved = (
        _has(Verdict.REJECTED),
        _has(Verdict.CHANGES_REQUESTED),
        _has(Verdict.APPROVED),
    )
    if outcome == Outcome.REJECTED:
        return takes.filter(rejected)
    if outcome == Outcome.CHANGES_REQUESTED:
        return takes.filter(changes).exclude(rejected)
    if outcome == Outcome.APPROVED:
        return takes.filter(approved).exclude(rejected).exclude(changes)
    if outcome == Outcome.UNDECIDED:
        return takes.exclude(Exists(Decision.objects.filter(take=OuterRef("pk"))))
    return takes


def with_review(takes: models.QuerySet) -> models.QuerySet:
    """What a take's card shows about its review, for a whole list in two more queries
    whatever its length (decisions with reviewers, and the selection)."""
    return takes.prefetch_related(
        models.Prefetch("decisions", queryset=Decision.objects.select_related("reviewer")),
        "selection",
    )


class Decision(models.Model):
    """One reviewer's verdict on one take. Changeable: the row is updated, not added to,
    so the unique key keeps "one voice per reviewer per take" true in the database."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    take = models.ForeignKey(
        "generation.Generation", on_delete=models.CASCADE, related_name="decisions"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["take", "reviewer"], name="one_decision_per_reviewer"),
            models.CheckConstraint(
                condition=models.Q(verdict__in=Verdict.values), name="decision_verdict_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.verdict}"


@dataclass
class DecisionSummary:
    """Everyone's decisions on a take, as the summary line shows them."""

    approved: list[str] = field(default_factory=list)
    changes_requested: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, decisions) -> DecisionSummary:
        summary = cls()
        for decision in decisions:
            getattr(summary, decision.verdict).append(str(decision.reviewer))
        return summary

    @property
    def outcome(self) -> Outcome:
        return Outcome.of(v for v in Verdict.values if getattr(self, v))

    def __bool__(self) -> bool:
        return bool(self.approved or self.changes_requested or self.rejected)


class Selection(models.Model):
    """The take a shot settled on (the "circle take"): at most one per shot.

    A table of its own rather than a field on Shot, so the review app owns it; the
    one-to-one on ``shot`` makes "one selected take per shot" a database fact, and
    choosing another take updates the row. ``take`` is one-to-one as well because a
    take belongs to exactly one shot.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    shot = models.OneToOneField("projects.Shot", on_delete=models.CASCADE, related_name="selection")
    take = models.OneToOneField(
        "generation.Generation", on_delete=models.CASCADE, related_name="selection"
    )
    selected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    selected_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.take} selected for {self.shot}"


class Kind(models.TextChoices):
    MENTION = "mention", "mentioned you"
    REPLY = "reply", "replied"
    COMMENT = "comment", "commented on your take"
    DECISION = "decision", "decided on your take"
    TAKE_READY = "take_ready", "Your take is ready"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user) -> NotificationQuerySet:
        """The person's notifications from workspaces they still belong to."""
        return self.filter(recipient=user, workspace__memberships__user=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should know about. Read in the inbox; unread ones that were
    never emailed go out in the next digest (``emailed_at`` makes the digest run once
    per notification even when the task runs twice)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    take = models.ForeignKey("generation.Generation", on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=80, blank=True)  # a guest's name
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["emailed_at", "read_at"]),
        ]

    def __str__(self) -> str:
        return self.sentence

    def get_absolute_url(self) -> str:
        return self.comment.get_absolute_url() if self.comment_id else self.take.get_absolute_url()

    @property
    def who(self) -> str:
        return str(self.actor) if self.actor_id else self.actor_name or "Someone"

    @property
    def sentence(self) -> str:
        take = f"{self.take.shot.name} · Take {self.take.number}"
        if self.kind == Kind.TAKE_READY:
            return f"{take} is ready"
        if self.kind == Kind.DECISION:
            return f"{self.who}: {self.get_verdict_display().lower()} on {take}"
        return f"{self.who} {self.get_kind_display()} on {take}"


class Digest(models.TextChoices):
    OFF = "off", "Never"
    HOURLY = "hourly", "At most once an hour"
    DAILY = "daily", "At most once a day"


class NotificationSettings(models.Model):
    """A person's email digest choice. Per person, not per workspace (the exception to
    "every row has a workspace"): it is about their inbox, which spans all their teams,
    and it is never fetched by an id from a URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    digest = models.CharField(max_length=8, choices=Digest.choices, default=Digest.HOURLY)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.digest}"


class GuestLinkQuerySet(models.QuerySet["GuestLink"]):
    def for_workspace(self, workspace) -> GuestLinkQuerySet:
        return self.filter(workspace=workspace)

    def active(self) -> GuestLinkQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class GuestLink(models.Model):
    """A review link for people without an account: one take, or a whole project.

    The token is the id signed with SECRET_KEY (``accounts.tokens``): an owner can copy
    an active link again, a leaked database cannot produce one, and revoking or expiry
    is a property of the row, so a dead link can say "revoked" or "expired" (410)
    rather than "not found". The optional password is stored as a Django password hash,
    never in clear. Exactly one of ``take`` and ``project`` is set (check constraint).
    Guests never download unless ``allow_download``; they can still watch, since the
    player streams the clip through the same short-lived signed media URLs as members.
    """

    SALT = "studio.review.guest_link"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    take = models.ForeignKey(
        "generation.Generation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="guest_links",
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="guest_links",
    )
    label = models.CharField(max_length=80, blank=True)  # who it is for, e.g. "Acme client"
    expires_at = models.DateTimeField()
    password_hash = models.CharField(max_length=128, blank=True)
    allow_download = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GuestLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(take__isnull=False, project__isnull=True)
                | models.Q(take__isnull=True, project__isnull=False),
                name="guest_link_covers_a_take_or_a_project",
            )
        ]

    def __str__(self) -> str:
        return self.label or f"Guest link {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("guest:index", args=[self.token])

    @property
    def token(self) -> str:
        return sign_id(self.pk, self.SALT)

    @classmethod
    def from_token(cls, token: str) -> GuestLink | None:
        pk = unsign_id(token, cls.SALT)
        if pk is None:
            return None
        return cls.objects.select_related("take__shot", "project").filter(pk=pk).first()

    @property
    def problem(self) -> str:
        """Why the link is dead ("revoked" or "expired"), or "" while it works."""
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return ""

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    def set_password(self, raw: str) -> None:
        self.password_hash = make_password(raw) if raw else ""

    def check_password(self, raw: str) -> bool:
        return self.has_password and check_password(raw, self.password_hash)

    def covered_takes(self) -> models.QuerySet:
        """The takes a guest may watch through this link (only ones with a clip)."""
        from studio.generation.models import Generation

        takes = Generation.objects.filter(workspace=self.workspace_id).with_clip()
        if self.take_id:
            return takes.filter(pk=self.take_id)
        return takes.filter(shot__project=self.project_id)
