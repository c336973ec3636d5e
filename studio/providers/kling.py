"""Kling's own API (Kuaishou): ``kling-v2-6`` (std and pro) and ``kling-v3``.

Wire format: reference/providers.md section 5 (from faithful third-party copies of the
official docs; the docs site itself renders with JavaScript).

* Auth: a JWT (HS256, ``iss`` = access key, ``exp`` now+30 min, ``nbf`` now-5 s) signed
  with the secret key, made fresh for every call. The newer platform also issues plain
  API keys, sent as they are: an account without a secret key is one of those.
* ``POST /v1/videos/text2video`` or ``/v1/videos/image2video``; a task is read back on
  the path family it was created on (``GET /v1/videos/{family}/{task_id}``), so the
  family travels in ``RemoteJob.poll_hint``.
* Every answer is ``{code, message, request_id, data}``. Code 0 is success, but a
  *failed task* also comes back as code 0 / ``"SUCCEED"``: only ``data.task_status``
  (``submitted``, ``processing``, ``succeed``, ``failed``) and ``task_status_msg`` tell.
* Errors are classified by the body code before the HTTP status, because Kling answers
  HTTP 429 both for rate limits (1302/1303, retry) and for an empty or blocked account
  (1100-1102, never retry).
* ``external_task_id`` = our take id: unique per account and readable in place of the
  task id, so after a lost answer ``reconcile`` finds the task, or learns it is not there.
* Callbacks are unsigned (none is documented): the callback URL carries the take's own
  secret token, and the body is only a hint; the pipeline re-reads the task with our JWT.
* Price: units (1 unit = $0.14); ``final_unit_deduction`` on the finished task settles it.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any, ClassVar

import jwt

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

BASE_URL = "https://api-singapore.klingai.com"  # the global host (Vercel AI SDK's default)
TOKEN_SECONDS = 1800
UNIT = 140_000  # micro-USD per Kling unit ($0.14)

STD_26 = Rates(
    unit="units",
    usd_micros_per_unit=UNIT,
    per_clip={(5, "*", False): Decimal("1.5"), (10, "*", False): Decimal(3)},
)
PRO_26 = Rates(
    unit="units",
    usd_micros_per_unit=UNIT,
    per_clip={
        (5, "*", False): Decimal("2.5"),
        (10, "*", False): Decimal(5),
        (5, "*", True): Decimal(5),
        (10, "*", True): Decimal(10),
    },
)
V3 = Rates(
    unit="units",
    usd_micros_per_unit=UNIT,
    per_second={
        ("720p", False): Decimal("0.6"),
        ("720p", True): Decimal("0.9"),
        ("1080p", False): Decimal("0.8"),
        ("1080p", True): Decimal("1.2"),
    },
)
# Kling reads images itself: JPEG or PNG only, 10 MB, 300 px, 1:2.5 to 2.5:1.
IMAGES = ImageRules(formats=("JPEG", "PNG"))

# 720p is Kling's "std" mode and 1080p its "pro" mode, for 2.6 and 3.0 alike.
MODES = {"720p": "std", "1080p": "pro"}
STATUSES = {
    "submitted": RemoteStatus.QUEUED,
    "processing": RemoteStatus.RUNNING,
    "succeed": RemoteStatus.SUCCEEDED,
    "failed": RemoteStatus.FAILED,
}
# Body codes (section 5.6). 1100 (account exception), 1103 (no permission for the model)
# and 1304 (IP not on the account's allow list) need the owner, like a refused key.
CODES: dict[int, ErrorKind] = {
    **dict.fromkeys((1000, 1001, 1002, 1003, 1004, 1100, 1103, 1304), ErrorKind.AUTH),
    **dict.fromkeys((1101, 1102), ErrorKind.OUT_OF_CREDIT),  # arrears, resource pack empty
    **dict.fromkeys((1200, 1201, 1202, 1203, 1300), ErrorKind.PERMANENT),
    1301: ErrorKind.MODERATION,
    **dict.fromkeys((1302, 1303), ErrorKind.RATE_LIMITED),  # rate, concurrency
    **dict.fromkeys((5000, 5001, 5002), ErrorKind.TRANSIENT),
}
NOT_FOUND = frozenset({404, 1203})  # HTTP 404 or "resource not found" in the body


def _offer(family: str, model: str, rates: Rates, **options: Any) -> Offer:
    return Offer(
        provider="kling",
        family=family,
        remote_model=model,
        rates=rates,
        image_rules=IMAGES,
        **options,
    )


class KlingProvider(wire.HostedProvider):
    slug: ClassVar[str] = "kling"
    label: ClassVar[str] = "Kling (official API)"
    offers: ClassVar[tuple[Offer, ...]] = (
        _offer("kling-2.6", "kling-v2-6", STD_26),
        _offer("kling-2.6-pro", "kling-v2-6", PRO_26),
        # 4K is a Kling 3.0 tier, but the reference does not say how the v1 API asks for
        # it (``mode`` is documented as std|pro only; 4K appears in the newer API's
        # ``settings.resolution``). Until that is verified, 720p and 1080p only.
        _offer("kling-3.0", "kling-v3", V3, resolutions=("720p", "1080p")),
    )
    base_url: ClassVar[str] = BASE_URL
    reconcilable: ClassVar[bool] = True  # external_task_id is unique and can be looked up
    webhooks: ClassVar[str] = "token"
    webhook_needs_secret: ClassVar[bool] = False
    image_transport: ClassVar[str] = "data"
    # Kling limits concurrency per resource pack (1303) and publishes no request rate:
    # a cautious pace (inferred).
    rate_limit_per_second: ClassVar[float] = 2.0
    credential_labels: ClassVar[dict[str, str]] = {
        "api_key": "Access key",
        "secret_key": "Secret key",
    }

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}"}

    def _token(self) -> str:
        if not self.credentials.secret_key:
            return self.credentials.api_key  # a plain API key from the newer platform
        now = int(time.time())
        return jwt.encode(
            {"iss": self.credentials.api_key, "exp": now + TOKEN_SECONDS, "nbf": now - 5},
            self.credentials.secret_key,
            algorithm="HS256",  # PyJWT writes the {"alg": "HS256", "typ": "JWT"} header
        )

    @staticmethod
    def family_path(request: GenerationRequest) -> str:
        return "image2video" if request.start_image else "text2video"

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model_name": request.offer.remote_model,
            "prompt": request.prompt,
            "mode": MODES[request.resolution],
            # Always explicit: the API's default is "off", and a field it does not know
            # (``enable_audio``) is silently ignored (ArcReel#1576).
            "sound": "on" if request.audio and request.offer.has_audio else "off",
            "duration": str(request.duration),  # a string on this API
            "external_task_id": request.job_id,
        }
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if request.start_image:
            # image2video takes no aspect_ratio (the frame follows the image). The URL is
            # sent rather than base64, which would have to drop its data: prefix.
            body["image"] = request.start_image.base64  # raw base64, no data: prefix
            if request.end_image:
                body["image_tail"] = request.end_image.base64
        else:
            body["aspect_ratio"] = request.aspect_ratio
        if request.shots:
            # Kling 3.0 multi-shot. The shot index is 1-based and image2video takes the
            # same fields as text2video (both inferred: the copies show text2video only).
            body["multi_shot"] = True
            body["shot_type"] = "customize"
            body["multi_prompt"] = [
                {"index": n, "prompt": text, "duration": str(seconds)}
                for n, (text, seconds) in enumerate(request.shots, start=1)
            ]
        if request.callback_url:
            body["callback_url"] = request.callback_url
        return body

    def submit(self, request: GenerationRequest) -> RemoteJob:
        path = self.family_path(request)
        response = wire.send(
            "POST",
            wire.join(self.base, f"/v1/videos/{path}"),
            creates=True,
            headers=self._headers(),
            json=self.payload(request),
        )
        data = self._data(response, creates=True)
        if not data.get("task_id"):
            raise ProviderError(ErrorKind.AMBIGUOUS, "accepted without a task id")
        return self._job(data, path)

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        return self._fetch(job.poll_hint or self.family_path(request), job.external_id)

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        # Our take id went out as external_task_id, which GET accepts in place of the
        # task id. "Not found" means the first submit never arrived: sending is safe.
        try:
            return self._fetch(self.family_path(request), request.job_id)
        except ProviderError as error:
            if error.status_code in NOT_FOUND:
                return None
            raise

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        # Unsigned: nothing in the body is trusted. It names the task so the view can
        # check it against the take (whose secret token is in the URL), and the pipeline
        # re-reads the task with our own credentials (``job=None``).
        try:
            data = json.loads(call.body)
        except ValueError as error:
            raise WebhookRejected("unreadable callback body") from error
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]  # some copies of the docs show the query envelope
        if not isinstance(data, dict) or not data.get("task_id"):
            raise WebhookRejected("a callback without a task id")
        task_id = str(data["task_id"])
        return WebhookEvent(
            external_id=task_id, event_key=f"{task_id}:{data.get('task_status', '')}"
        )

    def check_connection(self) -> None:
        response = wire.send(
            "GET",
            wire.join(self.base, "/v1/videos/text2video"),
            headers=self._headers(),
            params={"pageNum": "1", "pageSize": "1"},
        )
        self._data(response)

    # -- reading answers ------------------------------------------------------------------

    def _fetch(self, path: str, task_id: str) -> RemoteJob:
        response = wire.send(
            "GET", wire.join(self.base, f"/v1/videos/{path}/{task_id}"), headers=self._headers()
        )
        return self._job(self._data(response), path)

    @staticmethod
    def _data(response, *, creates: bool = False) -> Any:
        return wire.envelope(response, creates=creates, kinds=CODES, ok=0).get("data") or {}

    @staticmethod
    def _job(data: dict, path: str) -> RemoteJob:
        status = STATUSES.get(str(data.get("task_status", "")))
        if status is None:
            raise ProviderError(
                ErrorKind.TRANSIENT, f"unknown task status {data.get('task_status')!r}"
            )
        videos = (data.get("task_result") or {}).get("videos") or [{}]
        url = str(videos[0].get("url") or "")
        error = None
        if status == RemoteStatus.FAILED:
            # Moderation after acceptance comes only as words in task_status_msg.
            message = str(data.get("task_status_msg") or "failed")
            kind = ErrorKind.MODERATION if wire.looks_moderated(message) else ErrorKind.PERMANENT
            error = ProviderError(kind, message)
        elif status == RemoteStatus.SUCCEEDED and not url:
            status, error = (
                RemoteStatus.FAILED,
                ProviderError(ErrorKind.PERMANENT, "finished without a video"),
            )
        cost = data.get("final_unit_deduction")
        return RemoteJob(
            external_id=str(data.get("task_id", "")),
            status=status,
            video_url=url if status == RemoteStatus.SUCCEEDED else "",
            error=error,
            cost_units=None if cost in (None, "") else str(cost),
            poll_hint=path,
        )
