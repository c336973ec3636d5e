"""Kling's official API as the fake provider speaks it (reference/providers.md section 5).

What it holds the client to: a valid HS256 JWT from the sandbox keys (1001-1004 for an
empty, invalid, not-yet-valid or expired token; the plain sandbox key also works, like the
newer platform's API keys), string durations, ``sound`` on only in pro mode for 2.6, no
end frame with sound on 2.6, unique ``external_task_id`` per account, and tasks read back
on the path family they were created on, by task id or external task id.

Quirks reproduced on purpose: a failed task still answers ``code: 0`` / ``"SUCCEED"``;
an empty account is HTTP 429 with code 1102 (like the rate limit 1302, but not to be
retried); the callback is flat, unsigned, and sent on every status change. Kling checks
inputs at submit, so a submit-time "moderation" fault is a 1301 refusal there; a poll
fault or the ``[fake:moderation]`` prompt marker makes the task fail later instead.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from decimal import Decimal

import jwt
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response
from studio.providers.kling import PRO_26, STD_26, V3

STATUS = {
    "queued": "submitted",
    "running": "processing",
    "succeeded": "succeed",
    "failed": "failed",
}
DURATIONS = {"kling-v2-6": ("5", "10"), "kling-v3": tuple(str(n) for n in range(3, 16))}
PROMPT_LIMITS = {"kling-v2-6": 2500, "kling-v3": 3072}  # v3: 3072 per inference-sh's copy
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
RATES = {
    ("kling-v2-6", "std"): STD_26,
    ("kling-v2-6", "pro"): PRO_26,
    ("kling-v3", "std"): V3,
    ("kling-v3", "pro"): V3,
}
RESOLUTIONS = {"std": "720p", "pro": "1080p"}
AUTH_MESSAGES = {
    1000: "Authentication failed",
    1001: "Authorization is empty",
    1002: "Authorization is invalid",
    1003: "Authorization is not yet valid",
    1004: "Authorization has expired",
}
FAILURES = {
    # The wording Kling uses for a risk-control refusal after acceptance (new-api#3148).
    "moderation": "Failure to pass the risk control system",
    "fail": "Video generation failed, please try again later",
}


class KlingFake(ProviderFake):
    slug = "kling"
    webhook_on = frozenset({"all"})  # a callback on every status change

    def __init__(self, server) -> None:
        super().__init__(server)
        # Why the last authorization in this thread failed, for error("auth"): the server
        # calls authorized() and then error() in the same request thread.
        self._auth = threading.local()

    def rules(self) -> list[Rule]:
        family = "<any(text2video, image2video):family>"
        return [
            Rule(f"/v1/videos/{family}", endpoint="create", methods=["POST"]),
            Rule(f"/v1/videos/{family}", endpoint="tasks", methods=["GET"]),
            Rule(f"/v1/videos/{family}/<task_id>", endpoint="task", methods=["GET"]),
        ]

    def authorized(self, request: Request) -> bool:
        self._auth.code = None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token.strip():
            self._auth.code = 1001
        elif token != self.credentials.api_key:  # else: a plain API key, accepted as is
            self._auth.code = self._jwt_problem(token)
        return self._auth.code is None

    def _jwt_problem(self, token: str) -> int | None:
        try:
            claims = jwt.decode(
                token,
                self.credentials.secret_key,
                algorithms=["HS256"],
                options={"require": ["iss", "exp", "nbf"]},
            )
        except jwt.ExpiredSignatureError:
            return 1004
        except jwt.ImmatureSignatureError:
            return 1003
        except jwt.InvalidTokenError:
            return 1002
        return None if claims["iss"] == self.credentials.api_key else 1002

    # -- answers ----------------------------------------------------------------------------

    def envelope(
        self, data=None, *, code: int = 0, message: str = "SUCCEED", status: int = 200
    ) -> Response:
        return json_response(
            {"code": code, "message": message, "request_id": str(uuid.uuid4()), "data": data},
            status,
        )

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        # No Retry-After on 429s: Kling documents none (clients back off >= 1 s).
        if kind == "auth":
            code = getattr(self._auth, "code", None) or 1000
            return self.envelope(code=code, message=AUTH_MESSAGES[code], status=401)
        if kind == "429":
            return self.envelope(code=1302, message="API request rate limit exceeded", status=429)
        if kind == "out_of_credit":
            return self.envelope(
                code=1102, status=429, message="Account resource pack depleted or expired"
            )
        if kind == "moderation":
            return self.envelope(
                code=1301, status=400, message="Content security policy triggered, modify the input"
            )
        if kind == "not_found":
            return self.envelope(code=1203, message="Task not found", status=404)
        return self.envelope(code=5001, message="Service temporarily unavailable", status=503)

    def invalid(self, message: str) -> Response:
        return self.envelope(code=1201, message=message, status=400)

    # -- routes -----------------------------------------------------------------------------

    def create(self, request: Request, family: str) -> Response:
        data = self.body(request)
        problem = self.validate(data, family)
        if problem:
            return self.invalid(problem)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        if request.environ.get("fake.fail") == "moderation":
            return self.error("moderation")
        key = data.get("external_task_id", "")
        with self.state.lock:
            if self.state.find_by_key(self.slug, key):
                return self.invalid(f"external_task_id {key} already exists")
            job = self.new_job(
                request,
                id=str(uuid.uuid4().int)[:18],  # Kling task ids are long digit strings
                model=data["model_name"],
                body=data,
                duration=int(data["duration"]),
                aspect_ratio=data.get("aspect_ratio", "16:9"),
                audio=data.get("sound") == "on",
                prompt=data.get("prompt", ""),
                webhook_url=data.get("callback_url", ""),
                key=key,
                extra={"family": family},
            )
        return self.after_submit(request, self.envelope(self.task_object(job)))

    def task(self, request: Request, family: str, task_id: str) -> Response:
        job = self.state.find(self.slug, task_id) or self.state.find_by_key(self.slug, task_id)
        if job is not None and job.extra["family"] != family:
            job = None  # asked on another path family: not found there
        job = self.polled(request, job)
        if isinstance(job, Response):
            return job
        return self.envelope(self.task_object(job))

    def tasks(self, request: Request, family: str) -> Response:
        size = request.args.get("pageSize", "30")
        size = int(size) if size.isdigit() else 30
        with self.state.lock:
            mine = [
                j
                for j in self.state.jobs.values()
                if j.provider == self.slug and j.extra["family"] == family
            ]
        return self.envelope([self.task_object(j) for j in mine[:size]])

    def task_object(self, job: FakeJob, status: str | None = None) -> dict:
        status = status or job.status()
        data = {
            "task_id": job.id,
            "task_status": STATUS[status],
            "task_status_msg": FAILURES.get(job.error_kind, "") if status == "failed" else "",
            "task_info": {"external_task_id": job.key} if job.key else {},
            "created_at": int(job.created_at * 1000),
            "updated_at": int(time.time() * 1000),
            "task_result": {},
        }
        if status == "succeeded":
            data["final_unit_deduction"] = f"{self.units(job.body).normalize():f}"
            data["task_result"] = {
                "videos": [
                    {
                        "id": f"vid_{job.id}",
                        "url": self.result_url(job),
                        "duration": f"{job.duration}.0",
                    }
                ]
            }
        return data

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        return json.dumps(self.task_object(job, status)).encode(), {}  # unsigned

    @staticmethod
    def units(body: dict) -> Decimal:
        """What Kling deducts for the finished task (section 5.7)."""
        mode = body.get("mode", "std")
        rates = RATES[(body["model_name"], mode)]
        return rates.units(int(body["duration"]), RESOLUTIONS[mode], body.get("sound") == "on")

    # -- validation -------------------------------------------------------------------------

    def validate(self, data, family: str) -> str:
        """The first thing Kling would refuse with 1201, or ""."""
        if not isinstance(data, dict):
            return "the request body must be a JSON object"
        model = data.get("model_name", "kling-v1")
        if model not in DURATIONS:
            return f"model_name {model} is not supported"
        prompt = data.get("prompt", "")
        if not isinstance(prompt, str) or (family == "text2video" and not prompt):
            return "prompt is required"
        if len(prompt) > PROMPT_LIMITS[model] or len(data.get("negative_prompt", "")) > 2500:
            return "prompt is too long"
        mode = data.get("mode", "std")
        if mode not in ("std", "pro"):
            return "mode must be std or pro"
        sound = data.get("sound", "off")
        if sound not in ("on", "off"):
            return "sound must be the string on or off"
        if model == "kling-v2-6" and sound == "on" and mode != "pro":
            return "sound on requires mode pro for kling-v2-6"
        duration = data.get("duration", "5")
        if not isinstance(duration, str):
            return "duration must be a string"
        if duration not in DURATIONS[model]:
            return f"duration must be one of {', '.join(DURATIONS[model])}"
        if family == "text2video" and data.get("aspect_ratio", "16:9") not in ASPECT_RATIOS:
            return "aspect_ratio must be 16:9, 9:16 or 1:1"
        if family == "image2video":
            problem = self._images(data, model, mode, sound)
            if problem:
                return problem
        if data.get("multi_shot"):
            return self._shots(data, model, int(duration))
        return ""

    @staticmethod
    def _images(data: dict, model: str, mode: str, sound: str) -> str:
        for name in ("image", "image_tail"):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or value.startswith("data:")):
                return f"{name} must be a URL or base64 without a data: prefix"
        if not data.get("image"):
            return "image is required"
        if "image_tail" in data and model == "kling-v2-6":
            if mode != "pro":
                return "image_tail requires mode pro"
            if sound == "on":
                return "image_tail cannot be combined with sound on"
        return ""

    @staticmethod
    def _shots(data: dict, model: str, duration: int) -> str:
        shots = data.get("multi_prompt")
        if model != "kling-v3":
            return "multi_shot is only supported by kling-v3"
        if not isinstance(shots, list) or not 1 <= len(shots) <= 6:
            return "multi_prompt must list 1 to 6 shots"
        for shot in shots:
            seconds = shot.get("duration") if isinstance(shot, dict) else None
            if not isinstance(seconds, str) or not seconds.isdigit():
                return "each shot needs index, prompt and a string duration"
            if len(str(shot.get("prompt", ""))) > 512:
                return "a shot prompt is too long"
        if sum(int(s["duration"]) for s in shots) != duration:
            return "shot durations must add up to duration"
        return ""
