"""fal.ai: Kling 2.6 Pro and Kling 3.0 through fal's queue API.

Wire format: reference/providers.md section 6; webhooks: reliability.md section 3.1.

* Auth: ``Authorization: Key <key>``. Submit to
  ``https://queue.fal.run/fal-ai/kling-video/{v2.6/pro|v3/standard|v3/pro}/{text|image}-to-video``
  with the raw model input as the body (wrapped in ``{"input": ...}`` it is a 422) and
  ``?fal_webhook=<url>`` for a webhook.
* The answer's ``status_url`` and ``response_url`` live under ``fal-ai/kling-video`` with
  no subpath: they are kept in ``poll_hint`` and used as given, never rebuilt.
* Status answers 202 ``IN_QUEUE``/``IN_PROGRESS`` and 200 ``COMPLETED``. There is no
  failed status: a failed request is COMPLETED and fetching its result answers 4xx/5xx
  with fal's ``detail`` (``type: content_policy_violation`` for moderation).
* Webhooks: ED25519 over ``"{request_id}\\n{user_id}\\n{timestamp}\\n{sha256_hex(body)}"``,
  keys from fal's JWKS. A verified payload is trusted.
* Not reconcilable: fal has no idempotency key and no way to find a request by our id.
* Three hosts: ``queue.fal.run`` (jobs), ``api.fal.ai`` (platform API, for the connection
  check) and ``rest.alpha.fal.ai`` (JWKS). A ``base_url`` (gateway, sandbox) stands in
  for all three.
* Prices are USD per second from fal's model pages; fal reports no cost per request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from decimal import Decimal
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from studio.providers import wire
from studio.providers.base import (
    Credentials,
    ErrorKind,
    GenerationRequest,
    ProviderError,
    RemoteJob,
    RemoteStatus,
    WebhookCall,
    WebhookEvent,
    WebhookRejected,
)
from studio.providers.catalog import MICROS_PER_USD, Offer, Rates

QUEUE_URL = "https://queue.fal.run"
API_URL = "https://api.fal.ai"
JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
JWKS_PATH = "/.well-known/jwks.json"
JWKS_TTL = 24 * 3600.0  # fal: cache the keys for at most 24 h
# When no key verifies a signature, the keys are fetched again if the copy is older than
# this: fal may have rotated them. Bounded, so forged webhooks cannot make us hammer fal.
JWKS_REFRESH = 600.0

USD_26_PRO = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_second={("*", False): Decimal("0.07"), ("*", True): Decimal("0.14")},
)
USD_30 = Rates(
    unit="USD",
    usd_micros_per_unit=MICROS_PER_USD,
    per_second={
        ("720p", False): Decimal("0.084"),
        ("720p", True): Decimal("0.126"),
        ("1080p", False): Decimal("0.112"),
        ("1080p", True): Decimal("0.168"),
    },
)
# The endpoint's tier segment: fal serves 3.0 as "standard" (720p) and "pro" (1080p);
# Kling 2.6 only as "pro" (1080p), so the same table gives its path too.
TIERS = {"720p": "standard", "1080p": "pro"}
STATUSES = {"IN_QUEUE": RemoteStatus.QUEUED, "IN_PROGRESS": RemoteStatus.RUNNING}


class FalProvider(wire.HostedProvider):
    slug: ClassVar[str] = "fal"
    label: ClassVar[str] = "fal.ai"
    offers: ClassVar[tuple[Offer, ...]] = (
        # fal serves Kling 2.6 as pro only (no std endpoint), and 3.0 without 4K.
        Offer(
            provider="fal",
            family="kling-2.6-pro",
            remote_model="fal-ai/kling-video/v2.6",
            rates=USD_26_PRO,
        ),
        Offer(
            provider="fal",
            family="kling-3.0",
            remote_model="fal-ai/kling-video/v3",
            rates=USD_30,
            resolutions=("720p", "1080p"),
        ),
    )
    base_url: ClassVar[str] = QUEUE_URL
    reconcilable: ClassVar[bool] = False  # no idempotency key, no lookup by our id
    webhooks: ClassVar[str] = "signed"
    webhook_needs_secret: ClassVar[bool] = False
    image_transport: ClassVar[str] = "data"
    # An older fal FAQ says 10 requests/s; new accounts also run only 2 jobs at once,
    # which the queue absorbs. Half the published rate leaves room for other clients.
    rate_limit_per_second: ClassVar[float] = 5.0
    credential_labels: ClassVar[dict[str, str]] = {"api_key": "API key (FAL_KEY)"}

    def __init__(self, credentials: Credentials) -> None:
        super().__init__(credentials)  # self.base: the queue
        # fal has three hosts (queue, platform API, key set); a sandbox serves all three.
        override = credentials.base_url
        self.api = override or API_URL
        self.jwks_url = wire.join(override, JWKS_PATH) if override else JWKS_URL

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.credentials.api_key}"}

    @staticmethod
    def endpoint(request: GenerationRequest) -> str:
        kind = "image-to-video" if request.start_image else "text-to-video"
        return f"{request.offer.remote_model}/{TIERS[request.resolution]}/{kind}"

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "duration": str(request.duration),  # a string enum on fal ("5", not 5 or "5s")
            "generate_audio": request.audio,  # always explicit: fal defaults it to true
        }
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.start_image:
            # image-to-video has no aspect_ratio: the frame follows the image.
            body["start_image_url"] = request.start_image.data_uri  # fal takes data URIs
            if request.end_image:
                body["end_image_url"] = request.end_image.data_uri
        else:
            body["aspect_ratio"] = request.aspect_ratio
        if request.shots:
            # GAP: fal's multi_prompt item shape is not in the reference; it is inferred
            # from Kling's own (prompt + string duration) and its "customize" shot type.
            body["multi_prompt"] = [
                {"prompt": text, "duration": str(seconds)} for text, seconds in request.shots
            ]
            body["shot_type"] = "customize"
        return body

    def submit(self, request: GenerationRequest) -> RemoteJob:
        params = {"fal_webhook": request.callback_url} if request.callback_url else None
        response = wire.send(
            "POST",
            wire.join(self.base, self.endpoint(request)),
            creates=True,
            headers=self._headers(),
            json=self.payload(request),
            params=params,
        )
        _raise(response)
        data = wire.body(response, creates=True)
        request_id = data.get("request_id")
        urls = {name: str(data.get(name) or "") for name in ("status_url", "response_url")}
        if not request_id or not all(urls.values()):
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a request id or URLs")
        if not all(wire.under(self.base, url) for url in urls.values()):
            raise ProviderError(ErrorKind.PERMANENT, "fal answered with URLs on another host")
        return RemoteJob(
            external_id=str(request_id),
            status=RemoteStatus.QUEUED,
            poll_hint=json.dumps(urls, separators=(",", ":")),
        )

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        try:
            urls = json.loads(job.poll_hint)
            status_url, response_url = urls["status_url"], urls["response_url"]
        except (ValueError, TypeError, KeyError) as error:
            raise ProviderError(ErrorKind.PERMANENT, "the request's fal URLs were lost") from error
        response = wire.send("GET", status_url, headers=self._headers())
        _raise(response)
        status = wire.body(response).get("status")
        if status == "COMPLETED":
            return self._result(job, response_url)
        if status not in STATUSES:
            raise ProviderError(ErrorKind.TRANSIENT, f"unknown status {status!r}")
        return RemoteJob(
            external_id=job.external_id, status=STATUSES[status], poll_hint=job.poll_hint
        )

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        return None  # not reconcilable: the pipeline never calls this

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        """Verify fal's ED25519 signature and read the outcome.

        fal signs every customer's webhooks with the same keys, so a valid signature
        proves the webhook came from fal, not that it is about this take. The view
        therefore also requires ``external_id`` (the signed request id) to equal the
        take's request id, and the take is found by the secret token in the URL.
        """
        headers = call.headers
        request_id = headers.get("x-fal-webhook-request-id", "")
        user_id = headers.get("x-fal-webhook-user-id", "")
        timestamp = headers.get("x-fal-webhook-timestamp", "")
        signature = headers.get("x-fal-webhook-signature", "")
        if not (request_id and user_id and timestamp and signature):
            raise WebhookRejected("missing fal webhook headers")
        wire.require_fresh(timestamp)
        digest = hashlib.sha256(call.body).hexdigest()
        message = f"{request_id}\n{user_id}\n{timestamp}\n{digest}".encode()
        try:
            verified = self._verified(message, bytes.fromhex(signature))
        except ValueError as error:
            raise WebhookRejected("unreadable fal signature") from error
        except ProviderError as error:
            raise WebhookRejected(f"could not read fal's signing keys: {error}") from error
        if not verified:
            raise WebhookRejected("bad fal signature")
        try:
            data = json.loads(call.body)
        except ValueError as error:
            raise WebhookRejected("unreadable body") from error
        if not isinstance(data, dict) or str(data.get("request_id")) != request_id:
            raise WebhookRejected("the body is not about the signed request")
        return WebhookEvent(
            external_id=request_id, event_key=request_id, job=_webhook_job(request_id, data)
        )

    def check_connection(self) -> None:
        # The platform API's price lookup: cheap, read-only and needs a valid key.
        response = wire.send(
            "GET",
            wire.join(self.api, "/v1/models/pricing"),
            headers=self._headers(),
            params={"endpoint_id": "fal-ai/kling-video/v2.6/pro/text-to-video"},
        )
        _raise(response)

    # -- reading answers ------------------------------------------------------------------

    def _result(self, job: RemoteJob, response_url: str) -> RemoteJob:
        """A COMPLETED request's outcome: the video, or the error fal stored for it."""
        response = wire.send("GET", response_url, headers=self._headers())
        common = {"external_id": job.external_id, "poll_hint": job.poll_hint}
        if response.ok:
            url = (wire.body(response).get("video") or {}).get("url")
            if url:
                return RemoteJob(status=RemoteStatus.SUCCEEDED, video_url=str(url), **common)
            error = ProviderError(ErrorKind.PERMANENT, "finished without a video")
            return RemoteJob(status=RemoteStatus.FAILED, error=error, **common)
        detail = _detail(response)
        if detail is None or response.status_code in (401, 403, 429):
            # No fal error body (a proxy's page), or a refusal of *our* call (key, credit,
            # rate): not the request's outcome, so it is raised like any failed poll.
            _raise(response)
        kind = _refusal(response.status_code, detail) or wire.kind_for_status(response.status_code)
        error = ProviderError(kind, _describe(detail), status_code=response.status_code)
        return RemoteJob(status=RemoteStatus.FAILED, error=error, **common)

    def _verified(self, message: bytes, signature: bytes) -> bool:
        for fresh in (False, True):
            for key in _jwks(self.jwks_url, JWKS_REFRESH if fresh else JWKS_TTL):
                try:
                    key.verify(signature, message)
                    return True
                except InvalidSignature:
                    continue
        return False


_jwks_cache: dict[str, tuple[float, list[Ed25519PublicKey]]] = {}
_jwks_lock = threading.Lock()


def _jwks(url: str, max_age: float) -> list[Ed25519PublicKey]:
    """fal's public keys from the pinned JWKS URL, cached per URL for ``max_age`` seconds."""
    with _jwks_lock:
        cached = _jwks_cache.get(url)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
        response = wire.send("GET", url, headers={"Accept": "application/json"})
        wire.raise_for_status(response)
        data = wire.body(response)
        keys = []
        for entry in (data.get("keys") if isinstance(data, dict) else None) or []:
            x = str(entry.get("x", "")) if isinstance(entry, dict) else ""
            try:
                raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
                keys.append(Ed25519PublicKey.from_public_bytes(raw))
            except ValueError:
                continue  # not an Ed25519 key: fal's docs only promise ``x`` of OKP keys
        _jwks_cache[url] = (time.monotonic(), keys)
        return keys


def _webhook_job(request_id: str, data: dict) -> RemoteJob | None:
    """The job a verified webhook describes; None when it carries no usable result."""
    payload = data.get("payload")
    if data.get("status") == "ERROR":
        detail = payload.get("detail") if isinstance(payload, dict) else None
        message = _describe(detail) or str(data.get("error") or "failed")
        error = ProviderError(_refusal(0, detail) or ErrorKind.PERMANENT, message)
        return RemoteJob(external_id=request_id, status=RemoteStatus.FAILED, error=error)
    url = ((payload or {}).get("video") or {}).get("url") if isinstance(payload, dict) else None
    if data.get("status") == "OK" and url:
        return RemoteJob(external_id=request_id, status=RemoteStatus.SUCCEEDED, video_url=str(url))
    # OK without a readable payload (fal sends ``payload: null`` and ``payload_error``
    # when it could not serialize the result): re-fetch it by polling.
    return None


def _detail(response) -> Any:
    data = wire.json_or_none(response)
    return data.get("detail") if isinstance(data, dict) else None


def _describe(detail: Any) -> str:
    if isinstance(detail, list):
        return "; ".join(
            str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail
        )
    return "" if detail is None else str(detail)


def _refusal(status: int, detail: Any) -> ErrorKind | None:
    """What fal's ``detail`` says beyond the status code, if anything.

    * a 422 item of type ``content_policy_violation``: moderation;
    * 403 "User is locked. Reason: Exhausted balance" (or ``TOP_UP``): fal's answer to
      an empty account (fal-ai/fal#1112, #1147, #1163). It has no code, so its words are
      read; other locks (an admin lock) stay AUTH.
    """
    if isinstance(detail, list) and any(
        isinstance(item, dict) and item.get("type") == "content_policy_violation" for item in detail
    ):
        return ErrorKind.MODERATION
    if (
        status == 403
        and isinstance(detail, str)
        and ("Exhausted balance" in detail or "TOP_UP" in detail)
    ):
        return ErrorKind.OUT_OF_CREDIT
    return None


def _raise(response) -> None:
    if response.ok:
        return
    detail = _detail(response)
    kind = _refusal(response.status_code, detail)
    if kind is not None:
        raise ProviderError(kind, _describe(detail), status_code=response.status_code)
    wire.raise_for_status(response, _describe(detail))
