"""WaveSpeedAI as the fake provider speaks it (reference/providers.md section 4).

The envelope, paths, statuses, ``urls.get``, ``outputs``/``has_nsfw_contents`` and the
webhook signature follow the docs. Error answers other than the envelope itself are
inferred (the docs show no 401/402/429 bodies); the fake also refuses fields a model does
not list, which WaveSpeed may instead ignore, so that an adapter drifting from the
schema fails a test rather than a paid take.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response

STATUS = {
    "queued": "created",
    "running": "processing",
    "succeeded": "completed",
    "failed": "failed",
}
MODELS = {
    "kling-v2.6-std": range(5, 11, 5),
    "kling-v2.6-pro": range(5, 11, 5),
    "kling-v3.0-std": range(3, 16),
    "kling-v3.0-pro": range(3, 16),
}
MODES = ("text-to-video", "image-to-video")
RATIOS = ("16:9", "9:16", "1:1")
# What each model's page lists; ``sound`` is absent on 2.6 std (silent model).
COMMON = {"prompt", "negative_prompt", "cfg_scale", "duration"}


def fields_for(model: str, mode: str) -> set[str]:
    names = set(COMMON)
    if model != "kling-v2.6-std":
        names.add("sound")
    if model.startswith("kling-v3.0"):
        names |= {"shot_type", "multi_prompt"}
    if mode == "text-to-video":
        names.add("aspect_ratio")
    else:
        names.add("image")
        if model != "kling-v2.6-std":
            names.add("end_image")
    return names


def envelope(data, code: int = 200, message: str = "success", headers: dict | None = None):
    return json_response({"code": code, "message": message, "data": data}, code, headers)


class WaveSpeedFake(ProviderFake):
    slug = "wavespeed"

    def rules(self) -> list[Rule]:
        return [
            Rule("/api/v3/kwaivgi/<model>/<mode>", endpoint="submit", methods=["POST"]),
            Rule("/api/v3/predictions/<job_id>/result", endpoint="result", methods=["GET"]),
            # Some docs pages poll without /result; both answer the same.
            Rule("/api/v3/predictions/<job_id>", endpoint="result", methods=["GET"]),
            Rule("/api/v3/balance", endpoint="balance", methods=["GET"]),
        ]

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.credentials.api_key}"

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        if kind == "auth":
            return envelope(None, 401, "Unauthorized: invalid API key")
        if kind == "429":
            return envelope(
                None, 429, "Too Many Requests", {"Retry-After": str(int(retry_after or 2))}
            )
        if kind == "out_of_credit":
            return envelope(None, 402, "Insufficient balance, please top up")
        if kind in ("not_found", "expired"):
            return envelope(None, 404, "prediction not found")
        if kind == "moderation":
            return envelope(None, 400, "content moderation: input flagged")
        return envelope(None, 503, "Service temporarily unavailable")

    # -- routes ---------------------------------------------------------------------------

    def submit(self, request: Request, model: str, mode: str) -> Response:
        data = self.body(request)
        problem = self.validate(model, mode, data)
        if problem:
            return envelope(None, 400, problem)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        # 2.6 pro defaults to sound on, 3.0 to off (model pages); 2.6 std is silent.
        default_sound = model == "kling-v2.6-pro"
        audio = model != "kling-v2.6-std" and bool(data.get("sound", default_sound))
        shots = data.get("multi_prompt") or []
        job = self.new_job(
            request,
            model=f"kwaivgi/{model}/{mode}",
            body=data,
            duration=data.get("duration", 5),
            aspect_ratio=data.get("aspect_ratio", "16:9"),
            audio=audio,
            prompt=data.get("prompt") or " ".join(s["prompt"] for s in shots),
            webhook_url=request.args.get("webhook", ""),
        )
        return self.after_submit(request, envelope(self.prediction(job)))

    def validate(self, model: str, mode: str, data) -> str:
        if model not in MODELS or mode not in MODES:
            return f"model kwaivgi/{model}/{mode} not found"
        if not isinstance(data, dict):
            return "request body must be a JSON object"
        unknown = set(data) - fields_for(model, mode)
        if unknown:
            return "unknown parameter(s): " + ", ".join(sorted(unknown))
        shots = data.get("multi_prompt")
        if bool(data.get("prompt")) == bool(shots):
            return "either prompt or multi_prompt must be provided, but not both"
        duration = data.get("duration", 5)
        if type(duration) is not int or duration not in MODELS[model]:
            return f"duration must be an integer in {list(MODELS[model])}"
        if "sound" in data and not isinstance(data["sound"], bool):
            return "sound must be a boolean"
        if mode == "image-to-video" and not isinstance(data.get("image"), str):
            return "image is required"
        if "aspect_ratio" in data and data["aspect_ratio"] not in RATIOS:
            return "aspect_ratio must be one of " + ", ".join(RATIOS)
        if shots is not None:
            ok = isinstance(shots, list) and all(
                isinstance(s, dict)
                and isinstance(s.get("prompt"), str)
                and type(s.get("duration")) is int
                for s in shots
            )
            if not ok or sum(s["duration"] for s in shots) != duration:
                return "multi_prompt items need prompt and duration adding up to duration"
        return ""

    def result(self, request: Request, job_id: str) -> Response:
        job = self.polled(request, self.state.find(self.slug, job_id))
        if isinstance(job, Response):
            return job
        return envelope(self.prediction(job))

    def balance(self, request: Request) -> Response:
        return envelope({"balance": 42.5})

    # -- shapes ---------------------------------------------------------------------------

    def prediction(self, job: FakeJob) -> dict:
        status = job.status()
        done = status == "succeeded"
        failed = status == "failed"
        moderated = failed and job.error_kind == "moderation"
        return {
            "id": job.id,
            "model": job.model,
            "outputs": [self.result_url(job)] if done else [],
            "urls": {"get": f"{self.base_url}/api/v3/predictions/{job.id}/result"},
            "has_nsfw_contents": [moderated] if done or moderated else [],
            "status": STATUS[status],
            "created_at": datetime.fromtimestamp(job.created_at, UTC).isoformat(),
            "error": (
                "content moderation: input flagged"
                if moderated
                else job.error_message
                if failed
                else ""
            ),
            "timings": {"inference": int(job.run_seconds * 1000) if done else 0},
        }

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(self.prediction(job) | {"input": job.body}).encode()
        # One id per event: a re-delivery of the same event keeps it (Standard Webhooks).
        webhook_id = f"msg_{job.id}_{STATUS[status]}"
        timestamp = str(int(time.time()))
        key = self.credentials.webhook_secret.removeprefix("whsec_").encode()
        digest = hmac.new(
            key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return body, {
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": f"v3,{digest}",
        }
