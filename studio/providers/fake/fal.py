"""fal's queue API as the fake provider speaks it (reference/providers.md section 6).

Routes under ``/fal`` stand for fal's three hosts: the queue (``/fal-ai/kling-video/...``),
the platform API (``/v1/models/pricing``) and the JWKS (``/.well-known/jwks.json``,
public, like fal's). Input is validated the way fal's schema does (422 with pydantic-style
``detail[].loc``), so a body wrapped in ``{"input": ...}`` is refused on ``prompt``.

A failed request ends ``COMPLETED`` like on fal, and its result fetch answers the error;
webhooks are ``{request_id, status: OK|ERROR, payload}`` signed with ED25519 by this
fake's own key pair, which it publishes in its JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response

APP = "/fal-ai/kling-video"
USER_ID = "sandbox-fal-user"
DURATIONS_26 = ("5", "10")
DURATIONS_30 = tuple(str(n) for n in range(3, 16))
ENDPOINTS = {
    f"{model}/{kind}": durations
    for model, durations in (
        ("v2.6/pro", DURATIONS_26),
        ("v3/standard", DURATIONS_30),
        ("v3/pro", DURATIONS_30),
    )
    for kind in ("text-to-video", "image-to-video")
}
PRICES = {"v2.6/pro": 0.07, "v3/standard": 0.084, "v3/pro": 0.112}  # USD/s, sound off
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
# fal's answer to an empty account (fal-ai/fal#1112): a 403 lock, not a 402.
EXHAUSTED = (
    "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
)
MODERATED = [
    {
        "loc": ["body", "prompt"],
        "type": "content_policy_violation",
        "msg": "The content could not be processed because it violates the content policy.",
    }
]


def problem(field: str, msg: str, kind: str) -> dict:
    return {"loc": ["body", field], "msg": msg, "type": kind}


class FalFake(ProviderFake):
    slug = "fal"

    def __init__(self, server) -> None:
        super().__init__(server)
        self.signing_key = Ed25519PrivateKey.generate()

    def rules(self) -> list[Rule]:
        return [
            Rule(f"{APP}/requests/<request_id>/status", endpoint="status", methods=["GET"]),
            Rule(f"{APP}/requests/<request_id>", endpoint="result", methods=["GET"]),
            Rule(f"{APP}/<path:endpoint>", endpoint="submit", methods=["POST"]),
            Rule("/.well-known/jwks.json", endpoint="jwks", methods=["GET"]),
            Rule("/v1/models/pricing", endpoint="pricing", methods=["GET"]),
        ]

    def authorized(self, request: Request) -> bool:
        if request.path.endswith("/.well-known/jwks.json"):
            return True  # public keys, fetched without a key
        return request.headers.get("Authorization") == f"Key {self.credentials.api_key}"

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        if kind == "auth":
            return json_response({"detail": "No user found for Key ID and Secret"}, 401)
        if kind == "429":
            return json_response(
                {"detail": "Too many requests"}, 429, {"Retry-After": str(int(retry_after or 2))}
            )
        if kind == "out_of_credit":
            return json_response({"detail": EXHAUSTED}, 403)
        if kind == "moderation":
            return json_response({"detail": MODERATED}, 422)
        if kind == "not_found":
            return json_response({"detail": "Request not found"}, 404)
        return json_response(
            {
                "detail": "Service temporarily unavailable",
                "error_type": "runner_scheduling_failure",
            },
            503,
            {"X-Fal-Error-Type": "runner_scheduling_failure"},
        )

    # -- queue ------------------------------------------------------------------------------

    def urls(self, job: FakeJob) -> dict[str, str]:
        # Like fal's, under the app only: no model/tier/kind subpath.
        url = f"{self.base_url}{APP}/requests/{job.id}"
        return {"response_url": url, "status_url": f"{url}/status", "cancel_url": f"{url}/cancel"}

    def submit(self, request: Request, endpoint: str) -> Response:
        if endpoint not in ENDPOINTS:
            return json_response({"detail": f"Application 'kling-video/{endpoint}' not found"}, 404)
        data = self.body(request)
        problems = self.validate(endpoint, data)
        if problems:
            return json_response({"detail": problems}, 422)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        job = self.new_job(
            request,
            id=str(uuid.uuid4()),
            model=endpoint,
            body=data,
            duration=int(data.get("duration", "5")),
            aspect_ratio=data.get("aspect_ratio", "16:9"),
            audio=data.get("generate_audio", True),  # fal's default is sound on
            prompt=data["prompt"],
            webhook_url=request.args.get("fal_webhook", ""),
        )
        answer = {"request_id": job.id, **self.urls(job)}
        if job.webhook_url:
            answer["gateway_request_id"] = job.id
        return self.after_submit(request, json_response(answer))

    def status(self, request: Request, request_id: str) -> Response:
        job = self.polled(request, self.state.find(self.slug, request_id))
        if isinstance(job, Response):
            return job
        status, url = job.status(), self.urls(job)["response_url"]
        if status == "queued":
            return json_response(
                {"status": "IN_QUEUE", "queue_position": 0, "response_url": url}, 202
            )
        if status == "running":
            logs = [{"message": f"Generating ({job.progress()}%)", "timestamp": time.time()}]
            return json_response({"status": "IN_PROGRESS", "response_url": url, "logs": logs}, 202)
        # No FAILED on fal: a failed request is COMPLETED too.
        return json_response(
            {
                "status": "COMPLETED",
                "response_url": url,
                "logs": [],
                "metrics": {"inference_time": job.run_seconds},
            }
        )

    def result(self, request: Request, request_id: str) -> Response:
        job = self.state.find(self.slug, request_id)
        if job is None:
            return self.error("not_found")
        status = job.status()
        if status in ("queued", "running"):
            return json_response({"detail": "Request is still in progress"}, 400)
        if status == "failed":
            code, detail = self.failure(job)
            return json_response({"detail": detail}, code)
        return json_response(self.output(job))

    def output(self, job: FakeJob) -> dict:
        return {
            "video": {
                "url": self.result_url(job),
                "content_type": "video/mp4",
                "file_name": "output.mp4",
                "file_size": 4_120_312,
            }
        }

    @staticmethod
    def failure(job: FakeJob) -> tuple[int, object]:
        if job.error_kind == "moderation":
            return 422, MODERATED
        return 500, "Generation failed on the provider's side"

    # -- webhooks, keys, platform API -------------------------------------------------------

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        payload: dict = {"request_id": job.id, "gateway_request_id": job.id}
        if status == "succeeded":
            payload |= {"status": "OK", "payload": self.output(job)}
        else:
            code, detail = self.failure(job)
            payload |= {
                "status": "ERROR",
                "error": f"Invalid status code: {code}",
                "payload": {"detail": detail},
            }
        body = json.dumps(payload).encode()
        return body, self.signed_headers(job.id, body)

    def signed_headers(self, request_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        message = f"{request_id}\n{USER_ID}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}"
        return {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": USER_ID,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self.signing_key.sign(message.encode()).hex(),
        }

    def jwks(self, request: Request) -> Response:
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return json_response(
            {
                "keys": [
                    {
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": x,
                        "kid": "sandbox",
                        "use": "sig",
                        "alg": "EdDSA",
                    }
                ]
            }
        )

    def pricing(self, request: Request) -> Response:
        prices = []
        for endpoint_id in request.args.getlist("endpoint_id"):
            model = endpoint_id.removeprefix(APP.lstrip("/") + "/").rsplit("/", 1)[0]
            if model in PRICES:
                prices.append(
                    {
                        "endpoint_id": endpoint_id,
                        "unit_price": PRICES[model],
                        "unit": "second",
                        "currency": "USD",
                    }
                )
        return json_response({"prices": prices, "next_cursor": None, "has_more": False})

    # -- validation -------------------------------------------------------------------------

    def validate(self, endpoint: str, data) -> list[dict]:
        """fal's 422 ``detail`` items for this input, or []."""
        if not isinstance(data, dict):
            return [problem("__root__", "value is not a valid dict", "type_error.dict")]
        problems = []
        prompt = data.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            problems.append(problem("prompt", "field required", "value_error.missing"))
        elif len(prompt) > 2500:
            problems.append(
                problem(
                    "prompt",
                    "ensure this value has at most 2500 characters",
                    "value_error.any_str.max_length",
                )
            )
        durations = ENDPOINTS[endpoint]
        duration = data.get("duration", "5")
        if not isinstance(duration, str) or duration not in durations:
            problems.append(
                problem(
                    "duration",
                    f"value is not a valid enumeration member; permitted: {', '.join(durations)}",
                    "type_error.enum",
                )
            )
        audio = data.get("generate_audio", True)
        if not isinstance(audio, bool):
            problems.append(
                problem(
                    "generate_audio", "value could not be parsed to a boolean", "type_error.bool"
                )
            )
        if endpoint.endswith("text-to-video"):
            if data.get("aspect_ratio", "16:9") not in ASPECT_RATIOS:
                problems.append(problem("aspect_ratio", "unexpected value", "value_error.const"))
        else:
            if not isinstance(data.get("start_image_url"), str):
                problems.append(problem("start_image_url", "field required", "value_error.missing"))
            if "end_image_url" in data and endpoint.startswith("v2.6") and audio is True:
                # Kling 2.6 Pro cannot combine an end frame with audio (section 1.5).
                problems.append(
                    problem(
                        "end_image_url",
                        "end_image_url cannot be combined with generate_audio",
                        "value_error",
                    )
                )
        if "multi_prompt" in data:
            problems += self.shots(endpoint, data["multi_prompt"], duration)
        return problems

    @staticmethod
    def shots(endpoint: str, shots, duration) -> list[dict]:
        if not endpoint.startswith("v3"):
            return [problem("multi_prompt", "extra fields not permitted", "value_error.extra")]
        valid = (
            isinstance(shots, list)
            and 1 <= len(shots) <= 6
            and all(
                isinstance(s, dict)
                and isinstance(s.get("prompt"), str)
                and isinstance(s.get("duration"), str)
                and s["duration"].isdigit()
                for s in shots
            )
        )
        if not valid or str(sum(int(s["duration"]) for s in shots)) != duration:
            return [
                problem(
                    "multi_prompt", "1 to 6 shots whose durations add up to duration", "value_error"
                )
            ]
        return []
