"""The contract between the generation pipeline and every provider adapter.

Adapters are plain Python: no Django models, no httpx (they call studio/lib/http.py).
The pipeline hands them a :class:`GenerationRequest` and gets back a :class:`RemoteJob`
in one canonical vocabulary, whatever the provider's envelope looks like. Every failure
leaves an adapter as a :class:`ProviderError` whose ``kind`` was decided once, here in
the adapter, from status codes and body codes (never from substrings of messages).
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from studio.providers.catalog import Offer


class RemoteStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (RemoteStatus.SUCCEEDED, RemoteStatus.FAILED)


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # 5xx, timeouts before anything was accepted: retry with backoff
    RATE_LIMITED = "rate_limited"  # 429 and concurrency limits: retry after ``retry_after``
    PERMANENT = "permanent"  # the provider will never accept this request: fail, release
    MODERATION = "moderation"  # refused by content policy: fail, release, neutral message
    OUT_OF_CREDIT = "out_of_credit"  # the workspace's provider account is empty: fail, release
    AUTH = "auth"  # the key is wrong or disabled: fail, release, tell the owner
    AMBIGUOUS = "ambiguous"  # the submit may or may not have been accepted: reconcile
    TIMEOUT = "timeout"  # the take outlived its deadline (set by Studio, not by adapters)

    @property
    def retryable(self) -> bool:
        return self in (ErrorKind.TRANSIENT, ErrorKind.RATE_LIMITED)


# What a creator reads when a take fails, by kind. Adapters may add a provider's own
# message as ``detail`` (shown under "technical details"), never instead of this.
PLAIN_REASONS: dict[ErrorKind, str] = {
    ErrorKind.TRANSIENT: "The provider was unavailable and did not recover in time.",
    ErrorKind.RATE_LIMITED: "The provider was too busy to take this take in time.",
    ErrorKind.PERMANENT: "The provider could not make this take with these settings.",
    ErrorKind.MODERATION: "The provider declined this prompt or image under its content rules.",
    ErrorKind.OUT_OF_CREDIT: "The workspace's account at this provider is out of credit.",
    ErrorKind.AUTH: "The provider did not accept the workspace's API key.",
    ErrorKind.AMBIGUOUS: (
        "We could not confirm that the provider received this take, so it was not resent."
    ),
    ErrorKind.TIMEOUT: "The provider did not finish this take in time.",
}


class ProviderError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        detail: str = "",
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(f"{kind}: {detail}" if detail else str(kind))
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.status_code = status_code

    @property
    def plain(self) -> str:
        return PLAIN_REASONS[self.kind]


@dataclass(frozen=True)
class Credentials:
    api_key: str = ""
    secret_key: str = ""  # Kling's secret key (JWT signing)
    webhook_secret: str = ""  # WaveSpeed / Replicate whsec_, Kie HMAC key
    base_url: str = ""  # empty: the provider's public API host


@dataclass(frozen=True)
class ImageInput:
    """An image we stored and re-encoded ourselves, in the forms providers accept.

    Each adapter uses the form its provider takes (its ``image_transport``): a link the
    provider fetches from us, or the bytes inline (a data URI, or raw base64 for Kling),
    which also works when this installation cannot be reached from the internet.
    """

    url: str  # an absolute signed link to our copy, the same for every send of the take
    data: bytes  # the re-encoded bytes
    content_type: str  # image/jpeg or image/png

    @property
    def base64(self) -> str:
        return b64encode(self.data).decode()

    @property
    def data_uri(self) -> str:
        return f"data:{self.content_type};base64,{self.base64}"


@dataclass(frozen=True)
class GenerationRequest:
    job_id: str  # our take's id: used as idempotency key / external_task_id
    offer: Offer
    prompt: str
    negative_prompt: str
    duration: int
    aspect_ratio: str
    resolution: str
    audio: bool
    shots: tuple[tuple[str, int], ...] = ()  # Kling 3.0 multi-shot: (prompt, seconds)
    start_image: ImageInput | None = None
    end_image: ImageInput | None = None
    callback_url: str = ""  # empty: no webhook, poll only
    # Free-form fields the Preview renderer draws (scene, dialogue...). Adapters ignore it.
    preview: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteJob:
    external_id: str
    status: RemoteStatus
    video_url: str = ""  # set when SUCCEEDED (hosted providers)
    video_file: Path | None = None  # set when SUCCEEDED by a renderer in this process
    error: ProviderError | None = None  # set when FAILED
    # What the provider says it charged, in its own unit (Apiframe creditCost,
    # Kling final_unit_deduction); None when it does not report one.
    cost_units: str | None = None
    progress: int | None = None
    # Anything the adapter needs later to poll (fal status_url, Replicate urls.get).
    poll_hint: str = ""


@dataclass(frozen=True)
class WebhookCall:
    """An incoming webhook request as the adapter needs to see it."""

    body: bytes  # raw, exactly as received: signatures are over these bytes
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified webhook says.

    ``event_key`` is unique per provider delivery (Replicate webhook-id, fal request_id,
    Kling task_id+status...); a second delivery with the same key changes nothing.
    ``job`` is set only when the payload is trustworthy on its own (signed over the body);
    otherwise it is None and the pipeline re-fetches the job with our credentials.
    """

    external_id: str
    event_key: str
    job: RemoteJob | None = None


class WebhookRejected(Exception):
    """The webhook failed verification: bad or missing signature, stale timestamp."""


@runtime_checkable
class Provider(Protocol):
    slug: ClassVar[str]
    label: ClassVar[str]
    offers: ClassVar[tuple[Offer, ...]]
    # True when a repeated submit cannot create a second job (idempotency key or
    # unique external id) or when ``reconcile`` can find the first one.
    reconcilable: ClassVar[bool]
    # Webhook support: "signed" (payload trusted after verification), "token" (unsigned:
    # a per-job secret in the callback URL, then a re-fetch) or "" (poll only).
    webhooks: ClassVar[str]
    # How images travel: "url" (the provider fetches our signed link, so this installation
    # must be reachable: STUDIO_PUBLIC_URL) or "data" (inline in the request).
    image_transport: ClassVar[str]
    # True when a webhook can only be verified with credentials.webhook_secret: without
    # one, no callback URL is given and the take is polled.
    webhook_needs_secret: ClassVar[bool]
    # Sustained requests per second we allow ourselves toward this provider.
    rate_limit_per_second: ClassVar[float]
    # The secrets an owner pastes for this provider, by Credentials field, with the
    # provider's own names for them ("Access key"). "api_key" is always required.
    credential_labels: ClassVar[dict[str, str]]

    def __init__(self, credentials: Credentials) -> None: ...

    def submit(self, request: GenerationRequest) -> RemoteJob:
        """Create the job. Raises ProviderError; AMBIGUOUS when the outcome is unknown."""

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        """The job's current state (``job`` is what submit returned, with its poll_hint)."""

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        """After an ambiguous submit: the job the provider holds for this take, if any."""

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        """Verify and read a webhook. Raises WebhookRejected."""

    def check_connection(self) -> None:
        """A cheap authenticated call; raises ProviderError(AUTH) on a bad key."""
