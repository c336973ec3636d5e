"""Replicate: Kling 3.0 (``kwaivgi/kling-v3-video``) and Kling 2.6 (``kwaivgi/kling-v2.6``).

Wire format: reference/providers.md section 7; webhooks: reliability.md section 3.1.

* ``POST /v1/models/kwaivgi/{model}/predictions`` with ``{"input": {...}, "webhook",
  "webhook_events_filter": ["completed"]}`` and a Bearer token; 201 with the prediction,
  whose ``urls.get`` is kept in ``poll_hint`` and polled. Statuses ``starting``,
  ``processing``, ``succeeded`` (``output`` is a string URI), ``failed``, ``canceled``,
  ``aborted``.
* No ``Prefer: wait``: holding a worker for up to 60 s saves nothing on a video that takes
  minutes (vercel/ai#11284). ``Cancel-After`` makes an abandoned prediction stop billing.
* Outputs are deleted after 1 hour, so the pipeline downloads on the first success.
* Webhooks are Standard Webhooks, verified with the ``standardwebhooks`` library; the body
  is the prediction itself, so a verified one is trusted.
* Not reconcilable: there is no idempotency key, and ``GET /v1/predictions`` cannot be
  searched for our take (no documented input field carries a marker of ours, and an
  unknown input field is refused), so a lost submit answer fails the take with a refund.
* Errors: 402 out of credit, 422 invalid input, 429 with "resets in ~Ns" in ``detail``
  when there is no Retry-After header. A refusal under the content rules is a *failed
  prediction* with no code, only words: "flagged as sensitive ... (E005)".
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, ClassVar

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

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

BASE_URL = "https://api.replicate.com"
# Matches Replicate's own 30-minute prediction timeout: past it the prediction is
# canceled instead of running (and billing) for a take Studio gave up on.
CANCEL_AFTER = "30m"

USD_30 = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_second={
        ("720p", False): Decimal("0.084"),
        ("720p", True): Decimal("0.126"),
        ("1080p", False): Decimal("0.112"),
        ("1080p", True): Decimal("0.168"),
        # GAP: Replicate publishes no 4K price; Kling's own 4K rate (3 units = $0.42/s).
        ("4k", False): Decimal("0.42"),
        ("4k", True): Decimal("0.42"),
    },
)
# GAP: no Replicate price for kling-v2.6 was found; fal's Kling 2.6 Pro rates stand in.
USD_26 = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_second={("*", False): Decimal("0.07"), ("*", True): Decimal("0.14")},
)
IMAGES = ImageRules(formats=("JPEG", "PNG"))  # kling-v3-video: .jpg/.png, 10 MB, 300 px
MODES = {"720p": "standard", "1080p": "pro", "4k": "4k"}
STATUSES = {
    "starting": RemoteStatus.QUEUED,
    "processing": RemoteStatus.RUNNING,
    "succeeded": RemoteStatus.SUCCEEDED,
    "failed": RemoteStatus.FAILED,
    "canceled": RemoteStatus.FAILED,
    "aborted": RemoteStatus.FAILED,
}
RESETS_IN = re.compile(r"resets in ~?(\d+(?:\.\d+)?)\s*s")


class ReplicateProvider(wire.HostedProvider):
    slug: ClassVar[str] = "replicate"
    label: ClassVar[str] = "Replicate"
    offers: ClassVar[tuple[Offer, ...]] = (
        Offer(
            provider="replicate",
            family="kling-3.0",
            remote_model="kwaivgi/kling-v3-video",
            rates=USD_30,
            image_rules=IMAGES,
        ),
        # GAP: kwaivgi/kling-v2.6 has no published schema. Client code sends prompt,
        # start_image, duration (int), aspect_ratio, negative_prompt, generate_audio and
        # mode "pro", so it is offered as 2.6 Pro without the unverified end frame.
        Offer(
            provider="replicate",
            family="kling-2.6-pro",
            remote_model="kwaivgi/kling-v2.6",
            rates=USD_26,
            image_rules=IMAGES,
            end_image=False,
            note="Priced like Kling 2.6 Pro elsewhere: Replicate publishes no price.",
        ),
    )
    base_url: ClassVar[str] = BASE_URL
    reconcilable: ClassVar[bool] = False  # see the module docstring
    webhooks: ClassVar[str] = "signed"
    webhook_needs_secret: ClassVar[bool] = True
    image_transport: ClassVar[str] = "data"
    # Replicate allows 600 predictions/min (10/s) and 3000 other calls/min per account:
    # 10/s keeps our creates within the first and our polls far below the second.
    rate_limit_per_second: ClassVar[float] = 10.0
    credential_labels: ClassVar[dict[str, str]] = {
        "api_key": "API token (r8_…)",
        "webhook_secret": "Webhook signing secret (whsec_…)",
    }

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        values: dict[str, Any] = {
            "prompt": request.prompt,
            "duration": request.duration,  # an integer here
            # Inferred for kling-v2.6 (GAP): "pro", the only tier it is offered as.
            "mode": MODES[request.resolution],
            "generate_audio": request.audio,  # always explicit: v3 defaults it to false
        }
        if request.negative_prompt:
            values["negative_prompt"] = request.negative_prompt
        if request.start_image:
            # aspect_ratio is ignored once there is a start image, so it is not sent.
            values["start_image"] = request.start_image.data_uri  # a URL or a data URI
            if request.end_image:
                values["end_image"] = request.end_image.data_uri
        else:
            values["aspect_ratio"] = request.aspect_ratio
        if request.shots:
            # A JSON *string* holding the shots (the item shape is inferred from Apiframe's
            # identical kling-3.0 field).
            values["multi_prompt"] = json.dumps(
                [{"prompt": text, "duration": seconds} for text, seconds in request.shots]
            )
        body: dict[str, Any] = {"input": values}
        if request.callback_url:
            # "completed" alone: intermediate events (start, output, logs) carry nothing
            # Studio acts on, and each would be one more delivery to verify.
            body["webhook"] = request.callback_url
            body["webhook_events_filter"] = ["completed"]
        return body

    def submit(self, request: GenerationRequest) -> RemoteJob:
        url = wire.join(self.base, f"/v1/models/{request.offer.remote_model}/predictions")
        response = wire.send(
            "POST",
            url,
            creates=True,
            json=self.payload(request),
            headers=self._headers(**{"Cancel-After": CANCEL_AFTER}),
        )
        _raise(response)
        job = self._job(wire.body(response, creates=True))
        if not job.external_id:
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a prediction id")
        return job

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        # urls.get when Replicate gave one under our base (our token goes there).
        url = job.poll_hint or wire.join(self.base, f"/v1/predictions/{job.external_id}")
        response = wire.send("GET", url, headers=self._headers())
        _raise(response)
        return self._job(wire.body(response))

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        return None  # not reconcilable: the pipeline never calls this

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        try:
            # Checks webhook-id/-timestamp/-signature over the raw body, any of several
            # "v1,<b64>" signatures (secret rotation), in constant time, within 5 minutes.
            data = Webhook(self.credentials.webhook_secret).verify(call.body, dict(call.headers))
        except EmptyWebhookSecretError as error:
            raise WebhookRejected("no Replicate webhook secret on this account") from error
        except (WebhookVerificationError, ValueError) as error:
            # ValueError: an unreadable secret, signature, body encoding or JSON.
            raise WebhookRejected(f"bad Replicate webhook: {error}") from error
        if not isinstance(data, dict) or not data.get("id"):
            raise WebhookRejected("the body is not a prediction")
        try:
            job: RemoteJob | None = self._job(data)
        except ProviderError:
            job = None  # a status word we do not know: re-fetch the prediction by polling
        # Replicate re-sends a delivery with the same webhook-id: the dedupe key.
        return WebhookEvent(
            external_id=str(data["id"]), event_key=call.headers.get("webhook-id", ""), job=job
        )

    def check_connection(self) -> None:
        response = wire.send("GET", wire.join(self.base, "/v1/account"), headers=self._headers())
        _raise(response)

    # -- reading answers ------------------------------------------------------------------

    def _job(self, data: dict) -> RemoteJob:
        word = str(data.get("status", ""))
        status = STATUSES.get(word)
        if status is None:
            raise ProviderError(ErrorKind.TRANSIENT, f"unknown status {word!r}")
        output = data.get("output")
        url = str((data.get("urls") or {}).get("get", ""))
        error = None
        if status == RemoteStatus.FAILED:
            error = _failure(word, str(data.get("error") or word))
        elif status == RemoteStatus.SUCCEEDED and not isinstance(output, str):
            # After an hour the output is deleted (data_removed) and there is nothing left.
            status = RemoteStatus.FAILED
            error = ProviderError(
                ErrorKind.PERMANENT, "finished without a video, or it was already deleted"
            )
        return RemoteJob(
            external_id=str(data.get("id", "")),
            status=status,
            video_url=output if status == RemoteStatus.SUCCEEDED else "",
            error=error,
            poll_hint=url if wire.under(self.base, url) else "",
        )


def _failure(word: str, message: str) -> ProviderError:
    if word == "aborted":
        # The Cancel-After deadline passed before the prediction even started.
        return ProviderError(ErrorKind.TRANSIENT, message)
    if word == "canceled":
        return ProviderError(ErrorKind.PERMANENT, "canceled at Replicate")
    # Replicate gives flagged content no code, only its wording ("The input or output
    # was flagged as sensitive ... (E005)"): the shared word list recognises it.
    kind = ErrorKind.MODERATION if wire.looks_moderated(message) else ErrorKind.PERMANENT
    return ProviderError(kind, message)


def _raise(response) -> None:
    if response.ok:
        return
    data = wire.json_or_none(response)
    detail = str(data.get("detail") or data.get("title") or "") if isinstance(data, dict) else ""
    if response.status_code == 429 and not wire.retry_after(response.headers):
        found = RESETS_IN.search(detail)
        raise ProviderError(
            ErrorKind.RATE_LIMITED,
            detail or "throttled",
            status_code=429,
            retry_after=float(found.group(1)) if found else 5.0,
        )
    wire.raise_for_status(response, detail)
