"""Kie AI's jobs API as the fake provider speaks it (reference/providers.md section 8).

Paths, the ``{code, msg, data}`` envelope, string durations, ``state`` words, the
``resultJson`` string and the callback signature follow Kie's docs. Inferred: errors come
back HTTP 200 with the code in the body (Kie documents only the body codes), a 429
carries Retry-After, and the callback body is the recordInfo envelope. The fake refuses
fields a model does not list, so adapter drift fails a test rather than a paid take.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response

RATIOS = ("1:1", "16:9", "9:16")
INPUTS = {
    "kling-2.6/text-to-video": {"prompt", "sound", "aspect_ratio", "duration"},
    "kling-2.6/image-to-video": {"prompt", "image_urls", "sound", "duration"},
    "kling-3.0/video": {
        "prompt",
        "image_urls",
        "sound",
        "duration",
        "aspect_ratio",
        "mode",
        "multi_shots",
        "multi_prompt",
        "kling_elements",
    },
}


def envelope(
    data, code: int = 200, msg: str = "success", status: int = 200, headers: dict | None = None
) -> Response:
    return json_response({"code": code, "msg": msg, "data": data}, status, headers)


def problems_26(model: str, data: dict) -> str:
    required = INPUTS[model]
    if set(data) != required:
        return f"input must have exactly: {', '.join(sorted(required))}"
    if not isinstance(data["prompt"], str) or not 1 <= len(data["prompt"]) <= 1000:
        return "prompt must be a string of at most 1000 characters"
    if data["duration"] not in ("5", "10"):
        return 'duration must be one of "5", "10"'
    if "aspect_ratio" in data and data["aspect_ratio"] not in RATIOS:
        return "aspect_ratio must be one of " + ", ".join(RATIOS)
    images = data.get("image_urls", ["x"])
    if not isinstance(images, list) or len(images) != 1:
        return "image_urls takes exactly one URL"
    return ""


def problems_30(data: dict) -> str:
    if data.get("duration") not in [str(n) for n in range(3, 16)]:
        return 'duration must be a string from "3" to "15"'
    if data.get("mode", "pro") not in ("std", "pro", "4K"):
        return "mode must be std, pro or 4K"
    if data.get("aspect_ratio", "16:9") not in RATIOS:
        return "aspect_ratio must be one of " + ", ".join(RATIOS)
    if not isinstance(data.get("multi_shots", False), bool):
        return "multi_shots must be a boolean"
    images = data.get("image_urls", [])
    if not data.get("multi_shots"):
        if not isinstance(data.get("prompt"), str) or not data["prompt"]:
            return "prompt is required when multi_shots is false"
        return "" if isinstance(images, list) and len(images) <= 2 else "image_urls: at most 2"
    shots = data.get("multi_prompt")
    if not isinstance(shots, list) or not 1 <= len(shots) <= 5 or len(images) > 1:
        return "multi_prompt takes 1 to 5 shots and only a first frame"
    for shot in shots:
        if not (
            isinstance(shot, dict)
            and isinstance(shot.get("prompt"), str)
            and len(shot["prompt"]) <= 500
            and type(shot.get("duration")) is int
            and 1 <= shot["duration"] <= 12
        ):
            return "each shot needs a prompt (<= 500 characters) and a duration of 1-12 s"
    if sum(shot["duration"] for shot in shots) != int(data["duration"]):
        return "shot durations must add up to duration"
    return ""


class KieFake(ProviderFake):
    slug = "kie"

    def rules(self) -> list[Rule]:
        return [
            Rule("/api/v1/jobs/createTask", endpoint="create", methods=["POST"]),
            Rule("/api/v1/jobs/recordInfo", endpoint="record", methods=["GET"]),
            Rule("/api/v1/chat/credit", endpoint="credit", methods=["GET"]),
        ]

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.credentials.api_key}"

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        if kind == "auth":
            return envelope(None, 401, "You do not have access permissions")
        if kind == "429":
            return envelope(
                None,
                429,
                "The request limit has been exceeded",
                headers={"Retry-After": str(int(retry_after or 2))},
            )
        if kind == "out_of_credit":
            return envelope(None, 402, "Credits insufficient")
        if kind in ("not_found", "expired"):
            return envelope(None, 404, "The task does not exist", status=404)
        if kind == "moderation":
            return envelope(None, 422, "Your prompt was flagged as sensitive content")
        # A server error is the one answer that also comes with an HTTP error status.
        return envelope(None, 500, "Server error, please try again later", status=500)

    # -- routes ---------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        data = self.body(request)
        problem = self.validate(data)
        if problem:
            return envelope(None, 422, problem)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        params = data["input"]
        shots = params.get("multi_prompt") or []
        job = self.new_job(
            request,
            model=data["model"],
            body=data,
            duration=int(params["duration"]),
            aspect_ratio=params.get("aspect_ratio", "16:9"),
            # multi-shot turns sound on by default (Kling 3.0 page)
            audio=bool(params.get("sound", bool(params.get("multi_shots")))),
            prompt=params.get("prompt") or " ".join(s["prompt"] for s in shots),
            webhook_url=data.get("callBackUrl", ""),
        )
        return self.after_submit(request, envelope({"taskId": job.id}))

    def validate(self, data) -> str:
        if not isinstance(data, dict) or set(data) - {"model", "callBackUrl", "input"}:
            return "body takes model, callBackUrl and input"
        model, params = data.get("model"), data.get("input")
        if model not in INPUTS:
            return "model must be one of " + ", ".join(INPUTS)
        if not isinstance(params, dict):
            return "input is required"
        unknown = set(params) - INPUTS[model]
        if unknown:
            return "unknown input field(s): " + ", ".join(sorted(unknown))
        if "sound" in params and not isinstance(params["sound"], bool):
            return "sound must be a boolean"
        if model == "kling-3.0/video":
            return problems_30(params)
        return problems_26(model, params)

    def record(self, request: Request) -> Response:
        task_id = request.args.get("taskId", "")
        if not task_id:
            return envelope(None, 422, "taskId is required")
        job = self.polled(request, self.state.find(self.slug, task_id))
        if isinstance(job, Response):
            return job
        return envelope(self.record_of(job))

    def credit(self, request: Request) -> Response:
        return envelope(1000)

    # -- shapes ---------------------------------------------------------------------------

    def state_of(self, job: FakeJob) -> str:
        status = job.status()
        if status == "queued":
            # Both queue words appear: waiting first, then queuing.
            early = time.time() - job.created_at < job.queue_seconds / 2
            return "waiting" if early else "queuing"
        return {"running": "generating", "succeeded": "success", "failed": "fail"}[status]

    def record_of(self, job: FakeJob) -> dict:
        state = self.state_of(job)
        created = int(job.created_at * 1000)
        ended = state in ("success", "fail")
        finished = created + int((job.queue_seconds + job.run_seconds) * 1000)
        return {
            "taskId": job.id,
            "model": job.model,
            "state": state,
            "param": json.dumps(job.body),
            "resultJson": json.dumps({"resultUrls": [self.result_url(job)]})
            if state == "success"
            else "",
            "failCode": "501" if state == "fail" else "",
            "failMsg": job.error_message if state == "fail" else "",
            "costTime": finished - created if ended else None,
            "completeTime": finished if ended else None,
            "createTime": created,
            "updateTime": finished if ended else int(time.time() * 1000),
        }

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        ok = status == "succeeded"
        body = json.dumps(
            {
                "code": 200 if ok else 501,
                "msg": "Task completed successfully." if ok else "Task failed.",
                "data": self.record_of(job),
            }
        ).encode()
        timestamp = str(int(time.time()))
        digest = hmac.new(
            self.credentials.webhook_secret.encode(),
            f"{job.id}.{timestamp}".encode(),
            hashlib.sha256,
        ).digest()
        return body, {
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": base64.b64encode(digest).decode(),
        }
