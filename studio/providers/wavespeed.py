"""WaveSpeedAI: Kling 2.6 std/pro and 3.0 std/pro through ``POST /api/v3/kwaivgi/...``.

Wire format: reference/providers.md section 4 (WaveSpeed docs and the wavespeed-python SDK).

* Auth: ``Authorization: Bearer``. The model is the URL path:
  ``kwaivgi/kling-v2.6-{std,pro}/{text,image}-to-video``, ``kwaivgi/kling-v3.0-{std,pro}/...``;
  the tier follows the resolution (std = 720p, pro = 1080p; WaveSpeed has no 4K Kling).
* Every answer is a ``{code, message, data}`` envelope. A failed job still comes back
  HTTP 200 with ``code: 200`` and ``data.status: "failed"``, so ``data.status`` and
  ``data.error`` decide. ``has_nsfw_contents`` flags moderated outputs.
* ``data.urls.get`` is the poll address; it travels in ``RemoteJob.poll_hint``.
* Webhooks: ``?webhook=<url>`` on submit. The body is the prediction object, signed
  Standard-Webhooks style: ``webhook-signature: v3,<hex>`` = HMAC-SHA256 over
  ``"{webhook-id}.{webhook-timestamp}.{raw body}"`` keyed with the ``whsec_`` secret minus
  its prefix and NOT base64-decoded (unlike Replicate). Signed over the body, so trusted.
* No idempotency key exists and the SDK never retries a submit: a lost answer cannot be
  reconciled, so ``reconcilable`` is False and an ambiguous submit fails with a refund.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
from studio.providers.catalog import MICROS_PER_USD, ImageRules, Offer, Rates

log = logging.getLogger(__name__)

BASE_URL = "https://api.wavespeed.ai"
STATUSES = {
    "created": RemoteStatus.QUEUED,
    "processing": RemoteStatus.RUNNING,
    "completed": RemoteStatus.SUCCEEDED,
    "failed": RemoteStatus.FAILED,
    # The SDK treats these as terminal too (client.py); neither has a documented payload.
    "cancelled": RemoteStatus.FAILED,
    "timeout": RemoteStatus.FAILED,
}
TIERS = {"720p": "std", "1080p": "pro"}
# .jpg/.jpeg/.png, <= 10 MB, >= 300 px, 1:2.5 to 2.5:1 (kling-v3.0 image-to-video schema).
IMAGES = ImageRules(formats=("JPEG", "PNG"))


PRICE_26_STD = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_clip={(5, "*", False): Decimal("0.21"), (10, "*", False): Decimal("0.42")},
)
# 2.6 pro prices are not on WaveSpeed's API pages (GAP, section 4.6); inferred to follow the
# official Kling rates, which the 2.6 pro text-to-video model page also prints.
PRICE_26_PRO = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_clip={
        (5, "*", False): Decimal("0.35"),
        (10, "*", False): Decimal("0.70"),
        (5, "*", True): Decimal("0.70"),
        (10, "*", True): Decimal("1.40"),
    },
)
PRICE_30 = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_second={
        ("720p", False): Decimal("0.084"),
        ("720p", True): Decimal("0.126"),
        ("1080p", False): Decimal("0.112"),
        ("1080p", True): Decimal("0.168"),
    },
)


class WaveSpeedProvider(wire.HostedProvider):
    slug: ClassVar[str] = "wavespeed"
    label: ClassVar[str] = "WaveSpeedAI"
    offers: ClassVar[tuple[Offer, ...]] = (
        Offer(
            provider="wavespeed",
            family="kling-2.6",
            remote_model="kwaivgi/kling-v2.6",
            rates=PRICE_26_STD,
            image_rules=IMAGES,
        ),
        Offer(
            provider="wavespeed",
            family="kling-2.6-pro",
            remote_model="kwaivgi/kling-v2.6",
            rates=PRICE_26_PRO,
            image_rules=IMAGES,
            # Its image-to-video pages disagree on the end frame's name (end_image vs
            # last_image, GAP); a wrong name is ignored silently yet billed, so not offered.
            end_image=False,
        ),
        Offer(
            provider="wavespeed",
            family="kling-3.0",
            remote_model="kwaivgi/kling-v3.0",
            rates=PRICE_30,
            image_rules=IMAGES,
            resolutions=("720p", "1080p"),  # std and pro; no 4K route on WaveSpeed
        ),
    )
    base_url: ClassVar[str] = BASE_URL
    reconcilable: ClassVar[bool] = False  # no idempotency key, no lookup by our id
    webhooks: ClassVar[str] = "signed"
    webhook_needs_secret: ClassVar[bool] = True
    image_transport: ClassVar[str] = "url"
    # New (Bronze) accounts get 2 video requests a minute and 2 concurrent tasks; most
    # accounts stay there. Every poll costs a request too, so stay well under one a second
    # and let the 429 + Retry-After path handle the rest.
    rate_limit_per_second: ClassVar[float] = 0.5
    credential_labels: ClassVar[dict[str, str]] = {
        "api_key": "API key",
        "webhook_secret": "Webhook secret (whsec_…)",
    }

    def path(self, request: GenerationRequest) -> str:
        mode = "image-to-video" if request.start_image else "text-to-video"
        return f"/api/v3/{request.offer.remote_model}-{TIERS[request.resolution]}/{mode}"

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"duration": request.duration}  # an integer here
        if request.shots:
            # v3.0 takes prompt OR multi_prompt, never both (model schema). The item shape
            # {prompt, duration} and shot_type "customize" are inferred from Kling's own
            # multi-shot API: WaveSpeed's pages only name the fields (GAP).
            body["shot_type"] = "customize"
            body["multi_prompt"] = [
                {"prompt": text, "duration": seconds} for text, seconds in request.shots
            ]
        else:
            body["prompt"] = request.prompt
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.offer.has_audio:
            # Sent every time: the default differs by model (2.6 pro on, 3.0 off).
            body["sound"] = request.audio
        if request.start_image:
            body["image"] = request.start_image.url
            if request.end_image:
                body["end_image"] = request.end_image.url
        else:
            # Image-to-video takes the frame from the image and has no aspect_ratio.
            body["aspect_ratio"] = request.aspect_ratio
        return body

    def submit(self, request: GenerationRequest) -> RemoteJob:
        response = wire.send(
            "POST",
            wire.join(self.base, self.path(request)),
            creates=True,
            headers=self._headers(),
            json=self.payload(request),
            params={"webhook": request.callback_url} if request.callback_url else None,
        )
        data = wire.envelope(response, creates=True).get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a prediction id")
        try:
            return self._job(data)
        except ProviderError as error:
            # The prediction exists: an odd first answer must never lead to a second send.
            raise ProviderError(ErrorKind.AMBIGUOUS, error.detail) from error

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        # urls.get is followed only on the API host: the poll carries our key.
        url = (
            job.poll_hint
            if wire.under(self.base, job.poll_hint)
            else wire.join(self.base, f"/api/v3/predictions/{job.external_id}/result")
        )
        response = wire.send("GET", url, headers=self._headers())
        # A prediction that is not visible yet answers 404: keep asking (section 12.5);
        # the take's deadline ends a job that never appears.
        data = wire.envelope(response, kinds={404: ErrorKind.TRANSIENT}).get("data")
        if not isinstance(data, dict):
            raise ProviderError(ErrorKind.TRANSIENT, "answer without a prediction")
        return self._job(data)

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        return None  # nothing to look the prediction up by: see ``reconcilable``

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        webhook_id = call.headers.get("webhook-id", "")
        timestamp = call.headers.get("webhook-timestamp", "")
        header = call.headers.get("webhook-signature", "")
        secret = self.credentials.webhook_secret
        if not (webhook_id and timestamp and header):
            raise WebhookRejected("unsigned WaveSpeed webhook")
        if not secret:
            raise WebhookRejected("no WaveSpeed webhook secret is configured")
        wire.require_fresh(timestamp)
        key = secret.removeprefix("whsec_").encode()
        signed = f"{webhook_id}.{timestamp}.".encode() + call.body
        expected = hmac.new(key, signed, hashlib.sha256).hexdigest()
        # The header may list several space-separated signatures (key rotation).
        candidates = [part.split(",", 1)[1] for part in header.split() if part.startswith("v3,")]
        if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            raise WebhookRejected("bad WaveSpeed signature")
        try:
            data = json.loads(call.body)
        except ValueError as error:
            raise WebhookRejected("unreadable body") from error
        if not isinstance(data, dict):
            raise WebhookRejected("unexpected body")
        if "status" not in data and isinstance(data.get("data"), dict):
            data = data["data"]  # tolerate the API envelope around the prediction (inferred)
        try:
            job = self._job(data)
        except ProviderError:
            # Verified, but not a result we can use as it stands: let the poller ask.
            return WebhookEvent(external_id=str(data.get("id") or ""), event_key=webhook_id)
        return WebhookEvent(external_id=job.external_id, event_key=webhook_id, job=job)

    def check_connection(self) -> None:
        response = wire.send(
            "GET", wire.join(self.base, "/api/v3/balance"), headers=self._headers()
        )
        wire.envelope(response)

    # -- reading answers ------------------------------------------------------------------

    def _job(self, data: dict) -> RemoteJob:
        word = str(data.get("status", "")).lower()
        status = STATUSES.get(word)
        if status is None:
            log.warning("WaveSpeed prediction %s has unknown status %r", data.get("id"), word)
            status = RemoteStatus.RUNNING  # keep polling; the take's deadline is the backstop
        message = str(data.get("error") or "")
        flagged = any(flag is True for flag in data.get("has_nsfw_contents") or [])
        outputs = data.get("outputs") or []
        url = outputs[0] if outputs and isinstance(outputs[0], str) else ""
        error = None
        if status == RemoteStatus.SUCCEEDED and flagged:
            # An output flagged NSFW is a refusal under the content rules, not a result.
            status = RemoteStatus.FAILED
            message = message or "output flagged by the content filter"
        if status == RemoteStatus.SUCCEEDED and not url:
            raise ProviderError(ErrorKind.TRANSIENT, "completed without an output URL")
        if status == RemoteStatus.FAILED:
            moderated = flagged or wire.looks_moderated(message)
            error = ProviderError(
                ErrorKind.MODERATION if moderated else ErrorKind.PERMANENT, message or word
            )
        urls = data.get("urls")
        return RemoteJob(
            external_id=str(data.get("id") or ""),
            status=status,
            video_url=url if status == RemoteStatus.SUCCEEDED else "",
            error=error,
            poll_hint=str(urls.get("get") or "") if isinstance(urls, dict) else "",
        )
