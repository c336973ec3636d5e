"""Kie AI: Kling 2.6 and 3.0 through the jobs API (``POST /api/v1/jobs/createTask``).

Wire format: reference/providers.md section 8 (Kie's OpenAPI pages, as copied in
henjicc/Henji-AI, and docs.kie.ai for task details and webhook verification).

* Auth: ``Authorization: Bearer``. Body ``{model, callBackUrl, input}`` where ``model`` is
  ``kling-2.6/text-to-video``, ``kling-2.6/image-to-video`` or ``kling-3.0/video``.
  ``duration`` is a STRING ("5"), ``sound`` a boolean that 2.6 requires.
* Every answer is ``{code, msg, data}`` and the body ``code`` carries the outcome (401,
  402, 422, 429...), whatever the HTTP status says; see ``wire.envelope``.
* ``GET /api/v1/jobs/recordInfo?taskId=``: ``state`` waiting, queuing, generating, success
  or fail; ``resultJson`` is a JSON string holding ``resultUrls``; ``failCode``/``failMsg``.
* Callbacks: POSTed to ``callBackUrl`` when the task ends, with ``X-Webhook-Timestamp`` and
  ``X-Webhook-Signature`` = base64(HMAC-SHA256(webhook HMAC key, "{taskId}.{timestamp}")).
  The signature does not cover the body, so a verified callback only says "task X
  changed": the pipeline re-fetches recordInfo with our key (``WebhookEvent.job`` None).
* No idempotency key and no lookup by our id: not reconcilable.

Prices: Kie bills credits; 55 credits = $0.275, so one credit is $0.005 (third-party
code, section 8.3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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
from studio.providers.catalog import ImageRules, Offer, Rates

BASE_URL = "https://api.kie.ai"
CREDIT_MICROS = 5_000  # $0.005: 55 credits = $0.275
PRICE_26 = Rates(
    unit="credits",
    usd_micros_per_unit=CREDIT_MICROS,
    per_clip={
        (5, "*", False): Decimal(55),  # $0.275
        (5, "*", True): Decimal(110),  # $0.55
        (10, "*", False): Decimal(110),  # $0.55
        (10, "*", True): Decimal(220),  # $1.10
    },
)
# Kling 3.0 credits on Kie are not published in our sources (GAP). Derived from the
# official per-second rates (std $0.084 / $0.126 with audio, pro $0.112 / $0.168, 4K
# $0.42) times Kie's discount on 2.6 pro (0.275 / 0.35 = 11/14), in credits.
PRICE_30 = Rates(
    unit="credits",
    usd_micros_per_unit=CREDIT_MICROS,
    per_second={
        ("720p", False): Decimal("13.2"),
        ("720p", True): Decimal("19.8"),
        ("1080p", False): Decimal("17.6"),
        ("1080p", True): Decimal("26.4"),
        ("4k", False): Decimal(66),
        ("4k", True): Decimal(66),
    },
)
STATES = {
    "waiting": RemoteStatus.QUEUED,
    "queuing": RemoteStatus.QUEUED,
    "generating": RemoteStatus.RUNNING,
    "success": RemoteStatus.SUCCEEDED,
    "fail": RemoteStatus.FAILED,
}
# Kie's own envelope codes; the others (401, 402, 404, 422, 429, 500) read like HTTP.
CODES = {
    433: ErrorKind.OUT_OF_CREDIT,  # the sub-key's spending limit: the owner must raise it
    455: ErrorKind.TRANSIENT,  # service maintenance
    501: ErrorKind.PERMANENT,  # generation failed
    505: ErrorKind.PERMANENT,  # feature disabled
}
MODES = {"720p": "std", "1080p": "pro", "4k": "4K"}
# image/jpeg and image/png, <= 10 MB (the image-to-video schema).
IMAGES = ImageRules(formats=("JPEG", "PNG"))


class KieProvider(wire.HostedProvider):
    slug: ClassVar[str] = "kie"
    label: ClassVar[str] = "Kie AI"
    offers: ClassVar[tuple[Offer, ...]] = (
        # Kie's kling-2.6 has a ``sound`` switch, and Kling only makes sound in pro mode,
        # so it is the Pro family (its resolution is not stated: 1080p inferred).
        Offer(
            provider="kie",
            family="kling-2.6-pro",
            remote_model="kling-2.6",
            rates=PRICE_26,
            prompt_limit=1000,
            negative_limit=0,  # no negative prompt field on Kie's Kling
            end_image=False,  # image_urls takes one image (maxItems 1)
            image_rules=IMAGES,
            note="Prompts up to 1000 characters; no negative prompt.",
        ),
        Offer(
            provider="kie",
            family="kling-3.0",
            remote_model="kling-3.0",
            rates=PRICE_30,
            negative_limit=0,
            max_shots=5,
            shot_prompt_limit=500,
            shot_max_seconds=12,
            image_rules=IMAGES,
            note="No negative prompt; up to 5 shots. Kling 3.0 prices here are estimated.",
        ),
    )
    base_url: ClassVar[str] = BASE_URL
    reconcilable: ClassVar[bool] = False
    # Signed, though not over the body: parse_webhook verifies, then asks for a re-fetch.
    webhooks: ClassVar[str] = "signed"
    webhook_needs_secret: ClassVar[bool] = False
    image_transport: ClassVar[str] = "url"
    # Kie publishes no rate limit in our sources (GAP): one request a second is a guess
    # that leaves room, and a 429 (code or status) backs off with Retry-After.
    rate_limit_per_second: ClassVar[float] = 1.0
    credential_labels: ClassVar[dict[str, str]] = {
        "api_key": "API key",
        "webhook_secret": "Webhook HMAC key",
    }

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        remote = request.offer.remote_model
        duration = str(request.duration)  # Kie wants "5", not 5
        if request.offer.family == "kling-3.0":
            model = f"{remote}/video"
            data: dict[str, Any] = {
                "sound": request.audio,
                "duration": duration,
                "aspect_ratio": request.aspect_ratio,
                "mode": MODES[request.resolution],
                "multi_shots": bool(request.shots),
            }
            if request.shots:
                # ``prompt`` is ignored in multi-shot mode: each shot carries its own.
                data["multi_prompt"] = [
                    {"prompt": text, "duration": seconds} for text, seconds in request.shots
                ]
            else:
                data["prompt"] = request.prompt
            images = [image.url for image in (request.start_image, request.end_image) if image]
            if images:
                data["image_urls"] = images  # [first, last]
        elif request.start_image:
            model = f"{remote}/image-to-video"  # takes its frame from the image
            data = {
                "prompt": request.prompt,
                "image_urls": [request.start_image.url],
                "sound": request.audio,
                "duration": duration,
            }
        else:
            model = f"{remote}/text-to-video"
            data = {
                "prompt": request.prompt,
                "sound": request.audio,
                "aspect_ratio": request.aspect_ratio,
                "duration": duration,
            }
        body: dict[str, Any] = {"model": model, "input": data}
        if request.callback_url:
            body["callBackUrl"] = request.callback_url
        return body

    def submit(self, request: GenerationRequest) -> RemoteJob:
        response = wire.send(
            "POST",
            wire.join(self.base, "/api/v1/jobs/createTask"),
            creates=True,
            headers=self._headers(),
            json=self.payload(request),
        )
        data = wire.envelope(response, creates=True, kinds=CODES).get("data")
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not task_id:
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a taskId")
        return RemoteJob(external_id=str(task_id), status=RemoteStatus.QUEUED)

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        response = wire.send(
            "GET",
            wire.join(self.base, "/api/v1/jobs/recordInfo"),
            headers=self._headers(),
            params={"taskId": job.external_id},
        )
        # A task that is not visible yet answers 404: keep asking (section 12.5).
        data = wire.envelope(response, kinds=CODES | {404: ErrorKind.TRANSIENT}).get("data")
        if not isinstance(data, dict):
            raise ProviderError(ErrorKind.TRANSIENT, "answer without a task record")
        return self._job(data)

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        return None  # no idempotency key and no lookup by our id: see ``reconcilable``

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        try:
            payload = json.loads(call.body)
        except ValueError as error:
            raise WebhookRejected("unreadable body") from error
        # The callback body mirrors recordInfo, envelope and all (inferred, section 14.7);
        # a flat record and Kie's sample's ``task_id`` spelling are read too.
        record = payload.get("data") if isinstance(payload, dict) else None
        record = record if isinstance(record, dict) else payload
        if not isinstance(record, dict):
            raise WebhookRejected("unexpected body")
        task_id = str(record.get("taskId") or record.get("task_id") or "")
        if not task_id:
            raise WebhookRejected("callback without a taskId")
        secret = self.credentials.webhook_secret
        # Kie only signs once the owner has generated a webhook HMAC key in its settings.
        # Without one, the callback is a doorbell for this take's token URL: it carries
        # nothing we trust, it only makes us ask Kie sooner.
        if secret:
            timestamp = call.headers.get("x-webhook-timestamp", "")
            signature = call.headers.get("x-webhook-signature", "")
            if not (timestamp and signature):
                raise WebhookRejected("unsigned Kie callback")
            wire.require_fresh(timestamp)
            digest = hmac.new(
                secret.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
                raise WebhookRejected("bad Kie signature")
        state = str(record.get("state") or "")
        return WebhookEvent(external_id=task_id, event_key=f"{task_id}:{state}", job=None)

    def check_connection(self) -> None:
        # "Get remaining credits": the cheapest authenticated call Kie documents.
        response = wire.send(
            "GET", wire.join(self.base, "/api/v1/chat/credit"), headers=self._headers()
        )
        wire.envelope(response, kinds=CODES)

    # -- reading answers ------------------------------------------------------------------

    def _job(self, data: dict) -> RemoteJob:
        state = str(data.get("state") or "")
        status = STATES.get(state)
        if status is None:
            raise ProviderError(ErrorKind.TRANSIENT, f"unknown state {state!r}")
        task_id = str(data.get("taskId") or "")
        if status == RemoteStatus.FAILED:
            message = str(data.get("failMsg") or data.get("failCode") or "fail")
            # Kie reports refusals only in words (failCode is a generic number).
            kind = ErrorKind.MODERATION if wire.looks_moderated(message) else ErrorKind.PERMANENT
            return RemoteJob(external_id=task_id, status=status, error=ProviderError(kind, message))
        url = ""
        if status == RemoteStatus.SUCCEEDED:
            url = _first_result(data.get("resultJson"))
            if not url:
                raise ProviderError(ErrorKind.TRANSIENT, "success without a result URL")
        return RemoteJob(external_id=task_id, status=status, video_url=url)


def _first_result(result_json: Any) -> str:
    """``resultJson`` is a JSON string inside the JSON: parse it again for resultUrls."""
    try:
        result = json.loads(result_json) if isinstance(result_json, str) else result_json
    except ValueError:
        return ""
    urls = result.get("resultUrls") if isinstance(result, dict) else None
    return urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else ""
