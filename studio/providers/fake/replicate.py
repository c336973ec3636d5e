"""Replicate's predictions API as the fake provider speaks it (reference/providers.md
section 7).

Bearer auth, 201 prediction objects, ``starting -> processing -> succeeded | failed``,
``output`` as a string URI, RFC 7807-style errors (422 ``invalid_fields``, 402), the
throttling 429 whose only hint is "resets in ~Ns" in ``detail``, and webhooks signed as
Standard Webhooks with the sandbox ``whsec_`` secret (a re-delivery keeps its
``webhook-id``). Inputs are checked against the model's schema, unknown fields refused.
kwaivgi/kling-v2.6 has no published schema: the one here is the adapter's inference.

Outputs are deleted after an hour on Replicate; here the ``expired`` download fault
deletes one (the URL 404s from then on and the prediction shows ``data_removed``).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from standardwebhooks import Webhook
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import FakeJob, ProviderFake, json_response

WORDS = {
    "queued": "starting",
    "running": "processing",
    "succeeded": "succeeded",
    "failed": "failed",
}
FLAGGED = "The input or output was flagged as sensitive. Please try again with different inputs."
FAILURES = {
    "moderation": f"{FLAGGED} (E005)",
    "fail": "Prediction failed: the model stopped with an internal error.",
}
NO_CREDIT = (
    "You have insufficient credit to run this model. Go to "
    "https://replicate.com/account/billing#billing to purchase credit."
)
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
Check = Callable[[object], str]  # the problem with a value, or ""


def text(limit: int) -> Check:
    return lambda v: (
        ""
        if isinstance(v, str) and len(v) <= limit
        else f"Must be a string of at most {limit} characters"
    )


def choice(*values) -> Check:
    return lambda v: (
        ""
        if v in values and not isinstance(v, bool)
        else f"Must be one of: {', '.join(map(str, values))}"
    )


def flag(value) -> str:
    return "" if isinstance(value, bool) else "Must be a boolean"


def url(value) -> str:
    ok = isinstance(value, str) and value.startswith(("http://", "https://", "data:"))
    return "" if ok else "Must be a URI"


def shots(value) -> str:
    try:
        items = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        items = None
    if not isinstance(items, list) or not 1 <= len(items) <= 6:
        return "Must be a JSON string holding 1 to 6 shots"
    return ""


SCHEMAS: dict[str, dict[str, Check]] = {
    "kwaivgi/kling-v3-video": {
        "prompt": text(2500),
        "negative_prompt": text(2500),
        "start_image": url,
        "end_image": url,
        "mode": choice("standard", "pro", "4k"),
        "aspect_ratio": choice(*ASPECT_RATIOS),
        "duration": choice(*range(3, 16)),
        "generate_audio": flag,
        "multi_prompt": shots,
    },
    "kwaivgi/kling-v2.6": {  # inferred (the adapter's GAP)
        "prompt": text(2500),
        "negative_prompt": text(2500),
        "start_image": url,
        "mode": choice("standard", "pro"),
        "aspect_ratio": choice(*ASPECT_RATIOS),
        "duration": choice(5, 10),
        "generate_audio": flag,
    },
}


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class ReplicateFake(ProviderFake):
    slug = "replicate"

    def rules(self) -> list[Rule]:
        return [
            Rule("/v1/models/<owner>/<name>/predictions", endpoint="create", methods=["POST"]),
            Rule("/v1/predictions/<prediction_id>", endpoint="prediction", methods=["GET"]),
            Rule("/v1/account", endpoint="account", methods=["GET"]),
        ]

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.credentials.api_key}"

    def problem(self, status: int, title: str, detail: str, **extra) -> Response:
        return json_response({"title": title, "detail": detail, "status": status, **extra}, status)

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        if kind == "auth":
            return self.problem(
                401, "Unauthenticated", "You did not pass a valid authentication token"
            )
        if kind == "429":
            # No Retry-After header: the wait is only in the words.
            seconds = int(retry_after or 2)
            return json_response(
                {
                    "detail": f"Request was throttled. Your rate limit resets in ~{seconds}s.",
                    "status": 429,
                },
                429,
            )
        if kind == "out_of_credit":
            return self.problem(402, "Insufficient credit", NO_CREDIT)
        if kind == "not_found":
            return self.problem(404, "Not found", "The requested resource could not be found.")
        return self.problem(503, "Service unavailable", "Replicate is temporarily unavailable.")

    def create(self, request: Request, owner: str, name: str) -> Response:
        model = f"{owner}/{name}"
        if model not in SCHEMAS:
            return self.error("not_found")
        data = self.body(request)
        invalid = self.validate(model, data)
        if invalid:
            detail = "\n".join(f"- {f['field']}: {f['description']}" for f in invalid)
            return self.problem(422, "Input validation failed", detail, invalid_fields=invalid)
        early = self.fault(request, "submit")
        if early is not None:
            return early
        values = data["input"]
        job = self.new_job(
            request,
            id=base64.b32encode(uuid.uuid4().bytes).decode().lower()[:26],
            model=model,
            body=data,
            duration=values.get("duration", 5),
            # The frame follows the start image when there is one (16:9 in the sandbox).
            aspect_ratio="16:9" if "start_image" in values else values.get("aspect_ratio", "16:9"),
            audio=values.get("generate_audio", False),  # false by default on kling-v3-video
            prompt=values["prompt"],
            webhook_url=data.get("webhook", ""),
            extra={"cancel_after": request.headers.get("Cancel-After", "")},
        )
        return self.after_submit(request, json_response(self.prediction_object(job), 201))

    def validate(self, model: str, data) -> list[dict]:
        """Replicate's ``invalid_fields`` for this body, or []."""
        if not isinstance(data, dict) or not isinstance(data.get("input"), dict):
            return [{"type": "required", "field": "input", "description": "input is required"}]
        invalid = [
            {
                "type": "additional_property_not_allowed",
                "field": name,
                "description": f"Additional property {name} is not allowed",
            }
            for name in sorted(set(data) - {"input", "webhook", "webhook_events_filter"})
        ]
        schema, values = SCHEMAS[model], data["input"]
        if not values.get("prompt"):
            invalid.append(
                {"type": "required", "field": "input.prompt", "description": "prompt is required"}
            )
        for name, value in values.items():
            message = (
                schema[name](value)
                if name in schema
                else f"Additional property {name} is not allowed"
            )
            if message:
                invalid.append(
                    {"type": "invalid", "field": f"input.{name}", "description": message}
                )
        return invalid

    def prediction(self, request: Request, prediction_id: str) -> Response:
        job = self.polled(request, self.state.find(self.slug, prediction_id))
        if isinstance(job, Response):
            return job
        return json_response(self.prediction_object(job))

    def prediction_object(self, job: FakeJob, status: str | None = None) -> dict:
        status = status or job.status()
        url = f"{self.base_url}/v1/predictions/{job.id}"
        data = {
            "id": job.id,
            "model": job.model,
            "version": "sandbox",
            "input": job.body["input"],
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": WORDS[status],
            "created_at": iso(job.created_at),
            "urls": {
                "get": url,
                "cancel": f"{url}/cancel",
                "web": f"https://replicate.com/p/{job.id}",
            },
        }
        if status != "queued":
            data["started_at"] = iso(job.created_at + job.queue_seconds)
        if status in ("succeeded", "failed"):
            data["completed_at"] = iso(job.created_at + job.queue_seconds + job.run_seconds)
            data["metrics"] = {"predict_time": job.run_seconds}
        if status == "failed":
            data["error"] = FAILURES[job.error_kind]
        elif status == "succeeded" and job.expired:
            data |= {"data_removed": True, "input": {}}  # deleted after the retention hour
        elif status == "succeeded":
            data["output"] = self.result_url(job)
        return data

    def account(self, request: Request) -> Response:
        return json_response(
            {"type": "user", "username": "sandbox", "name": "Sandbox", "github_url": None}
        )

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(self.prediction_object(job, status))
        # A re-delivery of the same event keeps its webhook-id, as Replicate's do.
        message_id = job.extra.setdefault(f"webhook-id:{status}", f"msg_{uuid.uuid4().hex}")
        now = datetime.now(UTC)
        signature = Webhook(self.credentials.webhook_secret).sign(message_id, now, body)
        return body.encode(), {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
