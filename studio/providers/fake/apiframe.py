"""Apiframe v2 as the fake provider speaks it (reference/providers.md section 3)."""

from __future__ import annotations

import hashlib
import hmac
import json

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response

STATUS = {"queued": "QUEUED", "running": "PROCESSING", "succeeded": "COMPLETED", "failed": "FAILED"}
MODELS = {"kling-2.6": range(5, 11, 5), "kling-3.0": range(3, 16)}
PARAMS = {
    "duration",
    "aspect_ratio",
    "start_image",
    "end_image",
    "negative_prompt",
    "generate_audio",
    "mode",
    "multi_prompt",
}


class ApiframeFake(ProviderFake):
    slug = "apiframe"

    def rules(self) -> list[Rule]:
        return [
            Rule("/v2/videos/generate", endpoint="generate", methods=["POST"]),
            Rule("/v2/jobs/<job_id>", endpoint="job", methods=["GET"]),
            Rule("/v2/jobs", endpoint="jobs", methods=["GET"]),
        ]

    def authorized(self, request: Request) -> bool:
        return request.headers.get("X-API-Key") == self.credentials.api_key

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        if kind == "auth":
            return json_response({"error": "Invalid API key"}, 401)
        if kind == "429":
            return json_response(
                {"error": "Too many requests"}, 429, {"Retry-After": str(int(retry_after or 2))}
            )
        if kind == "out_of_credit":
            return json_response(
                {"error": "Insufficient credits", "creditsRequired": 25, "creditsAvailable": 3}, 402
            )
        if kind == "not_found":
            return json_response({"error": "Job not found"}, 404)
        if kind == "moderation":
            return json_response(
                {"error": "Provider returned an error: content policy violation"}, 400
            )
        return json_response({"error": "Service temporarily unavailable"}, 503)

    def generate(self, request: Request) -> Response:
        data = self.body(request)
        problems = self.validate(data)
        if problems:
            return json_response({"error": "Validation failed", "details": problems}, 400)
        key = request.headers.get("Idempotency-Key", "")
        existing = self.state.find_by_key(self.slug, key)
        if existing is not None:
            if existing.body != data:
                return json_response({"error": "Idempotency key reused with another body"}, 409)
            return json_response({"jobId": existing.id, "status": STATUS[existing.status()]}, 202)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        params = data.get("klingParams") or {}
        job = self.new_job(
            request,
            model=data["model"],
            body=data,
            duration=int(params.get("duration", 5)),
            aspect_ratio=params.get("aspect_ratio", "16:9"),
            audio=bool(params.get("generate_audio", True)),
            prompt=data["prompt"],
            webhook_url=data.get("webhookUrl", ""),
            key=key,
        )
        job.extra["cost"] = 25 if job.audio else 15
        return self.after_submit(request, json_response({"jobId": job.id, "status": "QUEUED"}, 202))

    def validate(self, data) -> dict[str, list[str]]:
        if not isinstance(data, dict):
            return {"body": ["must be a JSON object"]}
        problems: dict[str, list[str]] = {}
        extra = set(data) - {"prompt", "model", "klingParams", "webhookUrl", "webhookEvents"}
        if extra:
            problems["body"] = [f"unknown property {name}" for name in sorted(extra)]
        prompt = data.get("prompt")
        if not isinstance(prompt, str) or not 1 <= len(prompt) <= 4000:
            problems["prompt"] = ["must be a string of 1 to 4000 characters"]
        model = data.get("model")
        if model not in MODELS:
            problems["model"] = ["must be one of " + ", ".join(MODELS)]
            return problems
        params = data.get("klingParams") or {}
        unknown = set(params) - PARAMS
        if model == "kling-2.6":
            unknown |= set(params) & {"mode", "end_image", "multi_prompt"}
        if unknown:
            problems["klingParams"] = [f"unknown property {n}" for n in sorted(unknown)]
        duration = params.get("duration", 5)
        if (
            not isinstance(duration, int)
            or isinstance(duration, bool)
            or duration not in MODELS[model]
        ):
            problems["klingParams.duration"] = [
                "must be one of " + ", ".join(map(str, MODELS[model]))
            ]
        if "generate_audio" in params and not isinstance(params["generate_audio"], bool):
            problems["klingParams.generate_audio"] = ["must be a boolean"]
        return problems

    def job(self, request: Request, job_id: str) -> Response:
        job = self.polled(request, self.state.find(self.slug, job_id))
        if isinstance(job, Response):
            return job
        return json_response(self.job_object(job))

    def jobs(self, request: Request) -> Response:
        mine = self.mine()
        return json_response({"data": [self.job_object(j) for j in mine], "hasMore": False})

    def job_object(self, job: FakeJob) -> dict:
        status = job.status()
        done = status == "succeeded"
        return {
            "id": job.id,
            "status": STATUS[status],
            "model": job.model,
            "progress": job.progress() if status == "running" else (100 if done else None),
            "error": f"Provider returned an error: {job.error_message}"
            if status == "failed"
            else None,
            "creditCost": job.extra.get("cost") if done else None,
            "webhookStatus": "pending" if job.webhook_url else None,
            "input": job.body,
            "result": {"videoUrl": self.result_url(job)} if done else None,
            "expired": job.expired,
        }

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        event = "completed" if status == "succeeded" else "failed"
        payload = {"event": event, "jobId": job.id, "status": STATUS[status], "model": job.model}
        if status == "succeeded":
            payload |= {
                "progress": 100,
                "result": self.result_url(job),
                "creditCost": job.extra.get("cost"),
            }
        else:
            payload["error"] = f"Provider returned an error: {job.error_message}"
        body = json.dumps(payload).encode()
        key = hashlib.sha256(self.credentials.api_key.encode()).digest()
        signature = hmac.new(key, body, hashlib.sha256).hexdigest()
        return body, {"X-Webhook-Signature": f"sha256={signature}", "X-Webhook-Event": event}
