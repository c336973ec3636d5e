"""Givon AI as the fake provider speaks it: UNVERIFIED beyond the submit request.

Givon documents only the submit request (reference/providers.md section 2); the answer
shapes, status words, poll path and error bodies here are guesses, and every answer
says so in an ``X-Fake-Fixture: unverified`` header. Because the real shape is unknown,
the fake speaks two plausible ones, picked with the control API
(``POST /_control/config {"givon_shape": 1}``; a reset goes back to 0):

* 0, flat: ``{"id", "status": "queued"|"processing"|"completed"|"failed", "videoUrl",
  "error": {"message"}}``;
* 1, wrapped: ``{"data": {"generationId", "state": "pending"|"running"|"succeeded"|"error",
  "output": {"url"}, "error": "..."}}``;
* 2, unrecognised: ``{"generation": {"uuid", "phase"}}``, for the adapter's "unknown
  shape" path (it must log and never guess).

The submit request itself is checked against the model pages (field names, a number
``duration``, a boolean ``audioEnabled``, each model's options); unknown fields are
refused so an adapter drifting from the pages fails a test rather than a paid take.
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response

UNVERIFIED = {"X-Fake-Fixture": "unverified"}
STATUS_WORDS = {
    0: {"queued": "queued", "running": "processing", "succeeded": "completed", "failed": "failed"},
    1: {"queued": "pending", "running": "running", "succeeded": "succeeded", "failed": "error"},
    2: {"queued": "waiting", "running": "rendering", "succeeded": "ready", "failed": "oops"},
}
MODELS = {
    "kling-2.6": {
        "fields": {"prompt", "aspectRatio", "resolution", "duration", "audioEnabled", "startImage"},
        "ratios": ("9:16", "16:9", "1:1", "4:3", "3:4"),
        "resolutions": ("720p", "1080p"),
        "durations": (5, 10),
    },
    "kling-3.0": {
        "fields": {
            "prompt",
            "aspectRatio",
            "resolution",
            "duration",
            "audioEnabled",
            "startImage",
            "endImage",
        },
        "ratios": ("9:16", "16:9", "1:1"),
        "resolutions": ("720p", "1080p", "4k"),
        "durations": tuple(range(3, 16)),
    },
}
IMAGE_SCHEMES = ("asset://", "https://", "http://", "data:")


def answer(data, status: int = 200, headers: dict | None = None) -> Response:
    return json_response(data, status, UNVERIFIED | (headers or {}))


def failure(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return answer({"error": {"code": code, "message": message}}, status, headers)


def problem(data) -> str:
    if not isinstance(data, dict) or set(data) != {"type", "model", "input"}:
        return "body must be {type, model, input}"
    if data["type"] != "video" or data["model"] not in MODELS:
        return "type must be video and model one of " + ", ".join(MODELS)
    spec, params = MODELS[data["model"]], data["input"]
    if not isinstance(params, dict):
        return "input must be an object"
    unknown = set(params) - spec["fields"]
    if unknown:
        return "unknown input field(s): " + ", ".join(sorted(unknown))
    prompt = params.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 2500:
        return "prompt is required, up to 2500 characters"
    duration = params.get("duration", spec["durations"][0])
    if type(duration) not in (int, float) or duration not in spec["durations"]:
        return f"duration must be a number in {list(spec['durations'])}"
    if params.get("aspectRatio", "9:16") not in spec["ratios"]:
        return "aspectRatio must be one of " + ", ".join(spec["ratios"])
    if params.get("resolution", "720p") not in spec["resolutions"]:
        return "resolution must be one of " + ", ".join(spec["resolutions"])
    if not isinstance(params.get("audioEnabled", True), bool):
        return "audioEnabled must be a boolean"
    for slot in ("startImage", "endImage"):
        value = params.get(slot, "https://")
        if not isinstance(value, str) or not value.startswith(IMAGE_SCHEMES):
            return f"{slot} must be an asset://, https:// or data: URI"
    return ""


class GivonFake(ProviderFake):
    slug = "givon"
    webhook_on = frozenset()  # no webhooks documented

    def rules(self) -> list[Rule]:
        return [
            Rule("/api/v1/generations", endpoint="create", methods=["POST"]),
            Rule("/api/v1/generations", endpoint="listing", methods=["GET"]),
            Rule("/api/v1/generations/<job_id>", endpoint="generation", methods=["GET"]),
        ]

    @property
    def shape(self) -> int:
        return int(self.state.config.get("givon_shape", 0))

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.credentials.api_key}"

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        if kind == "auth":
            return failure(401, "unauthorized", "Invalid API key")
        if kind == "429":
            return failure(
                429,
                "rate_limited",
                "Too many requests",
                {"Retry-After": str(int(retry_after or 2))},
            )
        if kind == "out_of_credit":
            return failure(402, "insufficient_tokens", "Not enough tokens")
        if kind in ("not_found", "expired"):
            return failure(404, "not_found", "Generation not found")
        if kind == "moderation":
            return failure(400, "content_policy", "The prompt was flagged by moderation")
        return failure(503, "unavailable", "Service temporarily unavailable")

    # -- routes ---------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        data = self.body(request)
        reason = problem(data)
        if reason:
            return failure(400, "invalid_request", reason)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        params = data["input"]
        # "Native audio is available only in Kling 2.6 variants where the selected price
        # supports it": there is no 720p audio price, so 720p 2.6 comes back silent.
        silent_tier = data["model"] == "kling-2.6" and params.get("resolution", "720p") == "720p"
        job = self.new_job(
            request,
            model=data["model"],
            body=data,
            duration=int(params.get("duration", MODELS[data["model"]]["durations"][0])),
            aspect_ratio=params.get("aspectRatio", "9:16"),
            audio=params.get("audioEnabled", True) and not silent_tier,
            prompt=params["prompt"],
        )
        return self.after_submit(request, answer(self.generation_object(job), 201))

    def generation(self, request: Request, job_id: str) -> Response:
        job = self.polled(request, self.state.find(self.slug, job_id))
        if isinstance(job, Response):
            return job
        return answer(self.generation_object(job))

    def listing(self, request: Request) -> Response:
        mine = self.mine()
        return answer({"data": [self.generation_object(j) for j in mine][:1]})

    # -- shapes ---------------------------------------------------------------------------

    def generation_object(self, job: FakeJob) -> dict:
        status = job.status()
        word = STATUS_WORDS[self.shape][status]
        done, failed = status == "succeeded", status == "failed"
        if self.shape == 2:
            return {"generation": {"uuid": job.id, "phase": word}}
        if self.shape == 1:
            data = {"generationId": job.id, "state": word, "model": job.model}
            if done:
                data["output"] = {"url": self.result_url(job)}
            if failed:
                data["error"] = job.error_message
            return {"data": data}
        flat = {"id": job.id, "status": word, "model": job.model, "type": "video"}
        if done:
            flat["videoUrl"] = self.result_url(job)
        if failed:
            flat["error"] = {"message": job.error_message}
        return flat
