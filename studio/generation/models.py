from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.text import slugify

from studio.lib.crypto import decrypt, encrypt


class Status(models.TextChoices):
    """Where a take is. The row is the truth; Celery only rings the bell.

    Transitions (anything else is refused by :func:`services.transition`)::

        awaiting_approval ─► queued ─► submitting ─► running ─► downloading ─► succeeded
               │               │           │            │            │
               └──► canceled   └───────────┴────────────┴────────────┴──► failed

    * ``awaiting_approval``: over the approval threshold; an owner approves (queued) or
      declines (canceled). Credits are already reserved.
    * ``queued``: accepted by Studio, waiting for a worker.
    * ``submitting``: a worker holds the lease and is sending it (or, for Preview,
      rendering it). If the worker dies here the outcome is unknown: the sweeper either
      reconciles with the provider or fails the take; it never sends it twice blindly.
    * ``running``: the provider has it (``external_id`` is set); webhooks and the poller
      move it on.
    * ``downloading``: the provider finished; a worker copies the video into our storage.
    * ``succeeded`` / ``failed`` / ``canceled`` are terminal and never change again.

    Every change is a compare-and-set on the old status (see services.transition).
    """

    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Sending"
    RUNNING = "running", "Generating"
    DOWNLOADING = "downloading", "Saving"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"

    @classmethod
    def terminal(cls) -> frozenset[Status]:
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.CANCELED})

    @classmethod
    def active(cls) -> frozenset[Status]:
        return frozenset(set(cls) - cls.terminal() - {cls.AWAITING_APPROVAL})


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.AWAITING_APPROVAL: frozenset({Status.QUEUED, Status.CANCELED}),
    Status.QUEUED: frozenset({Status.SUBMITTING, Status.FAILED, Status.CANCELED}),
    Status.SUBMITTING: frozenset(
        {Status.RUNNING, Status.DOWNLOADING, Status.QUEUED, Status.FAILED}
    ),
    Status.RUNNING: frozenset({Status.DOWNLOADING, Status.FAILED}),
    Status.DOWNLOADING: frozenset({Status.SUCCEEDED, Status.FAILED}),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELED: frozenset(),
}


def _token() -> str:
    return secrets.token_urlsafe(24)


class ProviderAccountQuerySet(models.QuerySet["ProviderAccount"]):
    def for_workspace(self, workspace) -> ProviderAccountQuerySet:
        return self.filter(workspace=workspace)

    def enabled(self) -> ProviderAccountQuerySet:
        return self.filter(enabled=True)


class ProviderAccount(models.Model):
    """A workspace's key at one provider. Keys are Fernet-encrypted and never shown again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="provider_accounts"
    )
    provider = models.CharField(max_length=32)
    label = models.CharField(max_length=80, blank=True)
    api_key_encrypted = models.TextField(blank=True)
    secret_key_encrypted = models.TextField(blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    key_last4 = models.CharField(max_length=4, blank=True)
    # A gateway or the bundled sandbox instead of the provider's public host.
    base_url = models.URLField(blank=True)
    is_sandbox = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_message = models.CharField(max_length=200, blank=True)

    objects = ProviderAccountQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider"], name="one_account_per_provider"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.provider

    def set_keys(
        self, *, api_key: str = "", secret_key: str = "", webhook_secret: str = ""
    ) -> None:
        if api_key:
            self.api_key_encrypted = encrypt(api_key)
            self.key_last4 = api_key[-4:]
        if secret_key:
            self.secret_key_encrypted = encrypt(secret_key)
        if webhook_secret:
            self.webhook_secret_encrypted = encrypt(webhook_secret)

    def credentials(self):
        from studio.providers.base import Credentials

        return Credentials(
            api_key=decrypt(self.api_key_encrypted),
            secret_key=decrypt(self.secret_key_encrypted),
            webhook_secret=decrypt(self.webhook_secret_encrypted),
            base_url=self.base_url,
        )


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_workspace(self, workspace) -> GenerationQuerySet:
        return self.filter(workspace=workspace)

    def active(self) -> GenerationQuerySet:
        return self.filter(status__in=Status.active())

    def with_clip(self) -> GenerationQuerySet:
        return self.filter(clip__isnull=False)

    def for_gallery(self) -> GenerationQuerySet:
        """Everything a grid of cards shows, in a constant number of queries."""
        return self.select_related("clip", "shot", "shot__project", "created_by").order_by(
            "-created_at"
        )


class Generation(models.Model):
    """One take of a shot: a frozen recipe, its journey through a provider, and its clip.

    The recipe (``prompt``, ``params``, ``provider``, ``model``) never changes after
    creation, so a take can always be compared, remixed or audited. ``workspace`` repeats
    ``shot.workspace`` for scoping and for aggregating spend without joins.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    shot = models.ForeignKey("projects.Shot", on_delete=models.CASCADE, related_name="takes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="takes"
    )
    # The builder's submit key: a double click or a retried POST finds the same takes.
    request_key = models.UUIDField()
    take_index = models.PositiveSmallIntegerField(default=0)
    number = models.PositiveIntegerField()  # "Take 3": position in the shot's stack, from 1

    # Recipe
    provider = models.CharField(max_length=32)
    provider_account = models.ForeignKey(
        ProviderAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="takes"
    )
    model = models.CharField(max_length=32)  # catalog family key, e.g. "kling-3.0"
    prompt = models.JSONField(default=dict)  # PromptFields.to_dict()
    compiled_prompt = models.TextField()
    params = models.JSONField(default=dict)  # duration, aspect_ratio, resolution, audio
    start_image = models.ForeignKey(
        "media.Image", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_image = models.ForeignKey(
        "media.Image", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    estimate_micros = models.BigIntegerField(default=0)

    # Journey
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.CharField(max_length=300, blank=True)  # plain words for creators
    failure_kind = models.CharField(max_length=20, blank=True)  # ErrorKind, for dashboards
    failure_detail = models.TextField(blank=True)  # the provider's own words, for owners
    external_id = models.CharField(max_length=200, blank=True)
    poll_hint = models.CharField(max_length=500, blank=True)
    result_url = models.URLField(max_length=2000, blank=True)
    provider_cost_units = models.CharField(max_length=32, blank=True)
    # Per-take secret in the callback URL for providers that do not sign webhooks.
    webhook_token = models.CharField(max_length=64, default=_token, editable=False, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # claimed deliveries of the step
    lease_until = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.FloatField(default=3.0)  # seconds; backs off to 30
    deadline_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "request_key", "take_index"], name="one_take_per_submit_slot"
            ),
            models.UniqueConstraint(fields=["shot", "number"], name="one_take_number_per_shot"),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="generation_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["status", "next_poll_at"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["provider", "external_id"]),
        ]

    def __str__(self) -> str:
        return f"Take {self.number} of {self.shot}"

    def get_absolute_url(self) -> str:
        return reverse("takes:detail", args=[self.pk])

    @property
    def video(self) -> Clip | None:
        """The clip, or None while the take has none (the reverse one-to-one raises)."""
        try:
            return self.clip
        except Clip.DoesNotExist:
            return None

    @property
    def download_filename(self) -> str:
        """What a downloaded clip is called: the shot's name and the take's number."""
        return f"{slugify(self.shot.name) or 'clip'}-take-{self.number}.mp4"

    @property
    def poll_state(self) -> str:
        """What a status poll compares: when it has not changed, nothing is redrawn (and a
        screen reader is not told the same thing again)."""
        return f"{self.status}:{self.progress or 0}"

    @property
    def poll_every(self) -> str:
        """How often the page asks about this take: often while it is being made, rarely
        while it waits for an owner's approval, never once it has ended."""
        if self.is_terminal:
            return ""
        return "30s" if self.status == Status.AWAITING_APPROVAL else "2s"

    @property
    def is_terminal(self) -> bool:
        return self.status in Status.terminal()

    @property
    def duration(self) -> int:
        return int(self.params.get("duration", 0))

    @property
    def aspect_ratio(self) -> str:
        return self.params.get("aspect_ratio", "16:9")

    @property
    def audio(self) -> bool:
        return bool(self.params.get("audio"))


class ClipQuerySet(models.QuerySet["Clip"]):
    def for_workspace(self, workspace) -> ClipQuerySet:
        return self.filter(workspace=workspace)


class Clip(models.Model):
    """The video a succeeded take produced, in our storage, with what probing found."""

    generation = models.OneToOneField(
        Generation, on_delete=models.CASCADE, primary_key=True, related_name="clip"
    )
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    file = models.FileField(max_length=300)
    poster = models.ImageField(max_length=300, blank=True)
    size_bytes = models.BigIntegerField()
    duration_seconds = models.FloatField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.FloatField(default=24.0)
    video_codec = models.CharField(max_length=32)
    audio_codec = models.CharField(max_length=32, blank=True)
    has_audio = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClipQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Clip of {self.generation}"


class WebhookDelivery(models.Model):
    """One provider event, recorded once. A duplicate delivery hits the unique key."""

    provider = models.CharField(max_length=32)
    event_key = models.CharField(max_length=300)
    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, null=True, related_name="webhook_deliveries"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_key"], name="one_delivery_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_key}"
