"""Apiframe (API v2): Kling 2.6 and 3.0 through ``POST /v2/videos/generate``.

Wire format: reference/providers.md section 3 (from Apiframe's SDK OpenAPI file).

* Auth: ``X-API-Key``. Submits carry ``Idempotency-Key`` = our take id, so a repeated
  submit after a lost answer returns the original job (24 h replay): ``reconcile``
  is simply the same submit again.
* 202 ``{jobId, status: "QUEUED"}``; ``GET /v2/jobs/{id}`` moves QUEUED, PROCESSING,
  COMPLETED (``result.videoUrl``) or FAILED (``error``), CANCELLED.
* Webhooks: HMAC-SHA256 over the raw body, key = SHA-256 digest of the API key (raw
  32 bytes, as the SDK does), header ``X-Webhook-Signature: sha256=<hex>``. The
  completed payload's ``result`` is a URL string while the job object nests it in
  ``result.videoUrl``; both are read.
* Credits: ``creditCost`` is reported on completion and used to settle the take.
  The USD price of one credit is not published (GAP): we assume $0.01 per credit and
  show credits beside dollars so owners can check it against their invoice.
"""

from __future__ import annotations

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

BASE_URL = "https://api.apiframe.ai"
CREDIT = Rates(
    unit="credits",
    usd_micros_per_unit=10_000,  # assumed $0.01 per credit (GAP, see module docstring)
    per_clip={
        (5, "*", False): Decimal(15),
        (5, "*", True): Decimal(25),
        (10, "*", False): Decimal(25),
        (10, "*", True): Decimal(40),
    },
)
CREDIT_30 = Rates(
    unit="credits",
    usd_micros_per_unit=10_000,
    # Kling 3.0 credits on Apiframe are not published per variant (GAP); per second,
    # scaled from the 2.6 table and the official 3.0/2.6 price ratio.
    per_second={
        ("720p", False): Decimal(3),
        ("720p", True): Decimal("4.5"),
        ("1080p", False): Decimal(4),
        ("1080p", True): Decimal(6),
        ("4k", False): Decimal(15),
        ("4k", True): Decimal(15),
    },
)
STATUSES = {
    "QUEUED": RemoteStatus.QUEUED,
    "PROCESSING": RemoteStatus.RUNNING,
    "COMPLETED": RemoteStatus.SUCCEEDED,
    "FAILED": RemoteStatus.FAILED,
    "CANCELLED": RemoteStatus.FAILED,
}
MODES = {"720p": "standard", "1080p": "pro", "4k": "4k"}
IMAGES = ImageRules(max_bytes=25 * 1024 * 1024)


class ApiframeProvider(wire.HostedProvider):
    slug: ClassVar[str] = "apiframe"
    label: ClassVar[str] = "Apiframe"
    offers: ClassVar[tuple[Offer, ...]] = (
        Offer(
            provider="apiframe",
            family="kling-2.6-pro",
            remote_model="kling-2.6",
            rates=CREDIT,
            image_rules=IMAGES,
            end_image=False,  # Apiframe's kling-2.6 has no end_image parameter
            note="Priced in Apiframe credits (assumed $0.01 each).",
        ),
        Offer(
            provider="apiframe",
            family="kling-3.0",
            remote_model="kling-3.0",
            rates=CREDIT_30,
            image_rules=IMAGES,
            note="Priced in Apiframe credits (assumed $0.01 each).",
        ),
    )
    base_url: ClassVar[str] = BASE_URL
    reconcilable: ClassVar[bool] = True  # Idempotency-Key replays the original job
    webhooks: ClassVar[str] = "signed"
    webhook_needs_secret: ClassVar[bool] = False
    image_transport: ClassVar[str] = "url"
    rate_limit_per_second: ClassVar[float] = 5.0
    credential_labels: ClassVar[dict[str, str]] = {"api_key": "API key (afk_…)"}

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.credentials.api_key}

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "duration": request.duration,
            "aspect_ratio": request.aspect_ratio,
            "generate_audio": request.audio,
        }
        if request.negative_prompt:
            params["negative_prompt"] = request.negative_prompt
        if request.start_image:
            params["start_image"] = request.start_image.url
        if request.offer.family == "kling-3.0":
            params["mode"] = MODES[request.resolution]
            if request.end_image:
                params["end_image"] = request.end_image.url
            if request.shots:
                params["multi_prompt"] = json.dumps(
                    [{"prompt": text, "duration": seconds} for text, seconds in request.shots]
                )
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "model": request.offer.remote_model,
            "klingParams": params,
        }
        if request.callback_url:
            body["webhookUrl"] = request.callback_url
            body["webhookEvents"] = ["completed", "failed"]
        return body

    def submit(self, request: GenerationRequest) -> RemoteJob:
        response = wire.send(
            "POST",
            wire.join(self.base, "/v2/videos/generate"),
            creates=True,
            headers=self._headers(**{"Idempotency-Key": request.job_id}),
            json=self.payload(request),
        )
        self._raise(response, creates=True)
        data = wire.body(response, creates=True)
        job_id = data.get("jobId") or data.get("id")
        if not job_id:
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a job id")
        return RemoteJob(
            external_id=str(job_id), status=STATUSES.get(data.get("status"), RemoteStatus.QUEUED)
        )

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        response = wire.send(
            "GET", wire.join(self.base, f"/v2/jobs/{job.external_id}"), headers=self._headers()
        )
        self._raise(response)
        return self._job(wire.body(response))

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        # Same body, same Idempotency-Key: Apiframe answers with the job it already has,
        # or creates it now if the first request never arrived. Either way, one job.
        return self.submit(request)

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        signature = call.headers.get("x-webhook-signature", "").removeprefix("sha256=")
        key = hashlib.sha256(self.credentials.api_key.encode()).digest()
        expected = hmac.new(key, call.body, hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(expected, signature):
            raise WebhookRejected("bad Apiframe signature")
        try:
            data = json.loads(call.body)
        except ValueError as error:
            raise WebhookRejected("unreadable body") from error
        if not isinstance(data, dict) or not data.get("jobId"):
            raise WebhookRejected("the body is not a job event")
        job_id = str(data["jobId"])
        event = data.get("event") or call.headers.get("x-webhook-event", "")
        try:
            job: RemoteJob | None = self._job(data)
        except ProviderError:
            job = None  # a status word we do not know: re-fetch the job by polling
        return WebhookEvent(external_id=job_id, event_key=f"{job_id}:{event}", job=job)

    def check_connection(self) -> None:
        response = wire.send(
            "GET", wire.join(self.base, "/v2/jobs"), headers=self._headers(), params={"limit": "1"}
        )
        self._raise(response)

    # -- reading answers ------------------------------------------------------------------

    def _job(self, data: dict) -> RemoteJob:
        status = STATUSES.get(str(data.get("status", "")).upper())
        if status is None:
            raise ProviderError(ErrorKind.TRANSIENT, f"unknown status {data.get('status')!r}")
        job_id = str(data.get("jobId") or data.get("id") or "")
        error = None
        if status == RemoteStatus.FAILED:
            message = str(data.get("error") or data.get("status"))
            kind = ErrorKind.MODERATION if wire.looks_moderated(message) else ErrorKind.PERMANENT
            error = ProviderError(kind, message)
        result = data.get("result")
        url = result if isinstance(result, str) else (result or {}).get("videoUrl", "")
        if not url and isinstance(result, dict) and result.get("videos"):
            url = result["videos"][0] if isinstance(result["videos"][0], str) else ""
        cost = data.get("creditCost")
        return RemoteJob(
            external_id=job_id,
            status=status,
            video_url=url or "",
            error=error,
            cost_units=None if cost is None else str(cost),
            progress=data.get("progress"),
        )

    def _raise(self, response, *, creates: bool = False) -> None:
        if response.ok:
            return
        try:
            detail = str(response.json().get("error", ""))
        except (ValueError, AttributeError):
            detail = ""
        if response.status_code == 409:
            raise ProviderError(
                ErrorKind.PERMANENT, "idempotency conflict: " + detail, status_code=409
            )
        wire.raise_for_status(response, detail)
