"""Givon AI: Kling 2.6 and 3.0 through ``POST /api/v1/generations``.

Wire format: reference/providers.md section 2. Only the submit REQUEST is documented
(Givon's public model pages): Bearer auth, ``{"type": "video", "model", "input": {prompt,
aspectRatio, resolution, duration (a number), audioEnabled, startImage, endImage}}``.
``audioEnabled`` defaults to TRUE on Givon, so it is always sent.

Everything after the submit is a GAP (section 2.4) and inferred here:

* the answer's shape: the id is looked for in ``id``, ``generationId`` or ``data.id``,
  the status in ``status``/``state`` (top level or under ``data``), through a generous
  vocabulary; the video in ``videoUrl``, ``video_url``, ``output.url``, ``outputs[0]``,
  ``result.url`` (top level or under ``data``). Shapes we do not recognise are logged;
* the poll address ``GET /api/v1/generations/{id}`` (REST guess from the collection path);
* errors: only the HTTP status is relied on; no body codes are known;
* no webhooks are documented (poll only), and no idempotency key (not reconcilable);
* the USD price of a token: $0.01 assumed.

Ask Givon for their API reference before relying on this in production.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, ClassVar

from studio.providers import wire
from studio.providers.base import (
    ErrorKind,
    GenerationRequest,
    ProviderError,
    RemoteJob,
    RemoteStatus,
    WebhookCall,
    WebhookEvent,
    WebhookRejected,
)
from studio.providers.catalog import Offer, Rates

log = logging.getLogger(__name__)

BASE_URL = "https://api.givon.ai"
TOKEN_MICROS = 10_000  # $0.01 per token: ASSUMED, Givon publishes no token price (GAP)
NOTE = "Priced in Givon tokens; $0.01 per token is an assumption until Givon confirms it."
# Tokens per second, as printed on the model pages. The 2.6 page also lists "1080p 4.2"
# and "1080p · Audio 8.4" (section 2.3); the per-second rows are used.
PRICE_26 = Rates(
    unit="tokens",
    usd_micros_per_unit=TOKEN_MICROS,
    per_second={
        ("720p", False): Decimal(3),
        ("1080p", False): Decimal(4),
        ("1080p", True): Decimal(8),
    },
)
PRICE_30 = Rates(
    unit="tokens",
    usd_micros_per_unit=TOKEN_MICROS,
    per_second={
        ("720p", False): Decimal(3),
        ("720p", True): Decimal("5.5"),
        ("1080p", False): Decimal(6),
        ("1080p", True): Decimal(9),
        ("4k", False): Decimal(15),
        ("4k", True): Decimal(15),
    },
)

# Inferred (GAP): every shape below is a guess, tried in order.
ID_PATHS = (("id",), ("generationId",), ("data", "id"), ("data", "generationId"))
STATUS_PATHS = (("status",), ("state",), ("data", "status"), ("data", "state"))
VIDEO_PATHS = tuple(
    prefix + path
    for prefix in ((), ("data",))
    for path in (
        ("videoUrl",),
        ("video_url",),
        ("output", "url"),
        ("outputs", 0),
        ("outputs", 0, "url"),
        ("result", "url"),
    )
)
ERROR_PATHS = (("error", "message"), ("error",), ("data", "error", "message"), ("data", "error"))
STATUS_WORDS = {
    **dict.fromkeys(("queued", "pending", "waiting", "created", "submitted"), RemoteStatus.QUEUED),
    **dict.fromkeys(
        ("processing", "running", "generating", "in_progress", "started"), RemoteStatus.RUNNING
    ),
    **dict.fromkeys(
        ("completed", "succeeded", "success", "done", "finished"), RemoteStatus.SUCCEEDED
    ),
    **dict.fromkeys(("failed", "error", "canceled", "cancelled"), RemoteStatus.FAILED),
}


class GivonProvider(wire.HostedProvider):
    slug: ClassVar[str] = "givon"
    label: ClassVar[str] = "Givon AI"
    offers: ClassVar[tuple[Offer, ...]] = (
        # Givon's kling-2.6 at 720p is the budget silent tier; at 1080p it has audio.
        Offer(
            provider="givon",
            family="kling-2.6",
            remote_model="kling-2.6",
            rates=PRICE_26,
            negative_limit=0,  # Givon documents no negative prompt field
            note=NOTE,
        ),
        Offer(
            provider="givon",
            family="kling-2.6-pro",
            remote_model="kling-2.6",
            rates=PRICE_26,
            negative_limit=0,
            end_image=False,  # kling-2.6 has a startImage slot only
            note=NOTE,
        ),
        Offer(
            provider="givon",
            family="kling-3.0",
            remote_model="kling-3.0",
            rates=PRICE_30,
            negative_limit=0,
            max_shots=0,  # no multi-shot field is documented
            note=NOTE,
        ),
    )
    base_url: ClassVar[str] = BASE_URL
    reconcilable: ClassVar[bool] = False
    webhooks: ClassVar[str] = ""  # none documented: poll only
    webhook_needs_secret: ClassVar[bool] = False
    image_transport: ClassVar[str] = "data"
    rate_limit_per_second: ClassVar[float] = 1.0  # unpublished (GAP): a cautious guess
    credential_labels: ClassVar[dict[str, str]] = {"api_key": "API key"}

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        data: dict[str, Any] = {
            "prompt": request.prompt,
            "aspectRatio": request.aspect_ratio,
            "resolution": request.resolution,  # "720p", "1080p", "4k": Givon's spelling
            "duration": request.duration,  # a number
            "audioEnabled": request.audio,  # always sent: Givon's default is on
        }
        # Givon also takes data URIs; the signed URL keeps the request small.
        # Givon's asset slots take asset://, https or data URIs; inline needs no public URL.
        if request.start_image:
            data["startImage"] = request.start_image.data_uri
        if request.end_image:
            data["endImage"] = request.end_image.data_uri
        return {"type": "video", "model": request.offer.remote_model, "input": data}

    def submit(self, request: GenerationRequest) -> RemoteJob:
        response = wire.send(
            "POST",
            wire.join(self.base, "/api/v1/generations"),
            creates=True,
            headers=self._headers(),
            json=self.payload(request),
        )
        self._raise(response)
        data = wire.body(response, creates=True)
        external_id = _first(data, ID_PATHS, str | int)
        if external_id is None:
            log.warning("Givon accepted a generation in an unknown shape: %s", _keys(data))
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a recognisable id")
        status = self._status(data)
        if status is None or status.is_terminal:
            # The generation exists: whatever the first answer says, follow it by polling
            # rather than risk reading an odd shape as a failure and sending it again.
            status = RemoteStatus.QUEUED
        return RemoteJob(external_id=str(external_id), status=status)

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        response = wire.send(
            "GET",
            wire.join(self.base, f"/api/v1/generations/{job.external_id}"),
            headers=self._headers(),
        )
        self._raise(response)
        data = wire.body(response)
        status = self._status(data)
        if status is None:
            log.warning("Givon generation %s: unknown status in %s", job.external_id, _keys(data))
            status = RemoteStatus.RUNNING  # keep polling; the take's deadline is the backstop
        if status == RemoteStatus.FAILED:
            message = _first(data, ERROR_PATHS, str) or "failed"
            kind = ErrorKind.MODERATION if wire.looks_moderated(message) else ErrorKind.PERMANENT
            return RemoteJob(
                external_id=job.external_id, status=status, error=ProviderError(kind, message)
            )
        url = ""
        if status == RemoteStatus.SUCCEEDED:
            url = _first(data, VIDEO_PATHS, str) or ""
            if not url:
                log.warning(
                    "Givon generation %s finished without a video URL we can find: %s",
                    job.external_id,
                    _keys(data),
                )
                return RemoteJob(
                    external_id=job.external_id,
                    status=RemoteStatus.FAILED,
                    error=ProviderError(ErrorKind.PERMANENT, "finished without a video URL"),
                )
        return RemoteJob(external_id=job.external_id, status=status, video_url=url)

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        return None  # no idempotency key or lookup documented: see ``reconcilable``

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        raise WebhookRejected("Givon webhooks are not supported")

    def check_connection(self) -> None:
        # Inferred: the collection path answers a GET when the key is good (GAP).
        response = wire.send(
            "GET",
            wire.join(self.base, "/api/v1/generations"),
            headers=self._headers(),
            params={"limit": "1"},
        )
        self._raise(response)

    # -- reading answers ------------------------------------------------------------------

    def _status(self, data: Any) -> RemoteStatus | None:
        word = _first(data, STATUS_PATHS, str)
        return STATUS_WORDS.get(word.strip().lower()) if word else None

    def _raise(self, response) -> None:
        if response.ok:
            return
        detail = _first(wire.json_or_none(response), ERROR_PATHS, str) or ""
        if response.status_code in (400, 422) and wire.looks_moderated(detail):
            # A refusal of the prompt or image itself: no error codes are known, only words.
            raise ProviderError(ErrorKind.MODERATION, detail, status_code=response.status_code)
        wire.raise_for_status(response, detail)


def _first(data: Any, paths: tuple[tuple[str | int, ...], ...], want) -> Any:
    """The first non-empty value of type ``want`` along any of ``paths`` (keys or indexes)."""
    for path in paths:
        value = data
        for step in path:
            value = _step(value, step)
        if isinstance(value, want) and not isinstance(value, bool) and value != "":
            return value
    return None


def _step(value: Any, step: str | int) -> Any:
    if isinstance(value, dict) and isinstance(step, str):
        return value.get(step)
    if isinstance(value, list) and isinstance(step, int) and step < len(value):
        return value[step]
    return None


def _keys(data: Any) -> str:
    """What the answer looked like, without its values (they may hold signed URLs)."""
    if isinstance(data, dict):
        return (
            "{"
            + ", ".join(
                f"{key}: {_keys(value)}" if isinstance(value, dict) else str(key)
                for key, value in data.items()
            )
            + "}"
        )
    return type(data).__name__
