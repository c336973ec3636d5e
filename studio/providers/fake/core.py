"""The fake provider's shared parts: jobs that progress with time, injected faults,
the request log, and the base class each provider's fake builds on.

A provider fake (one module per provider, beside its adapter) only describes its wire
format: routes, auth check, envelopes, status words, error shapes and webhook
signatures. Everything else (time, faults, media, webhook delivery) lives here so all
fakes behave alike.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from studio.providers import sandbox

# Faults a test (or a curious newcomer) can inject, per provider and operation.
FAULTS = frozenset(
    {
        "latency",  # sleep `seconds`, then answer normally
        "timeout",  # sleep `seconds` (default 35) then answer 504: the client gives up first
        "5xx",  # the provider's own 503 envelope
        "429",  # the provider's own rate-limit envelope with Retry-After: `seconds`
        "malformed",  # 200 with a body that is not JSON
        "drop",  # accept the job, then close the connection without an answer
        "moderation",  # refused under the content policy (at submit, or the job fails later)
        "fail",  # the job fails with a generic error
        "out_of_credit",  # the provider account is empty
        "auth",  # the key is refused
        "expired",  # the result URL answers 404 (the provider deleted it)
        "duplicate",  # webhooks: deliver every event twice
    }
)
OPS = frozenset({"submit", "poll", "download", "webhook"})


@dataclass
class Fault:
    kind: str
    seconds: float | None = None


@dataclass
class FakeJob:
    provider: str
    model: str
    body: Any  # the submit body as received (decoded JSON)
    duration: int
    aspect_ratio: str
    audio: bool
    prompt: str = ""
    webhook_url: str = ""
    key: str = ""  # idempotency key or external task id, when the provider has one
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)
    queue_seconds: float = 0.5
    run_seconds: float = 2.0
    outcome: str = "succeeded"  # or "failed"
    error_kind: str = ""  # "moderation" or "fail" when the job will fail
    extra: dict = field(default_factory=dict)  # provider-specific bookkeeping
    notified: set = field(default_factory=set)  # statuses already sent by webhook
    expired: bool = False

    def status(self, now: float | None = None) -> str:
        """Canonical status by the clock: queued, running, then the outcome."""
        elapsed = (now or time.time()) - self.created_at
        if elapsed < self.queue_seconds:
            return "queued"
        if elapsed < self.queue_seconds + self.run_seconds:
            return "running"
        return self.outcome

    def progress(self, now: float | None = None) -> int:
        elapsed = (now or time.time()) - self.created_at - self.queue_seconds
        if elapsed <= 0:
            return 0
        return min(100, int(100 * elapsed / max(self.run_seconds, 0.001)))

    @property
    def error_message(self) -> str:
        if self.error_kind == "moderation":
            return "content policy violation: the prompt was flagged by moderation"
        return "generation failed on the provider's side"


class FakeState:
    """Everything the fake server remembers. One instance per server; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs: dict[str, FakeJob] = {}
        self.faults: dict[tuple[str, str], deque[Fault]] = {}
        self.requests: list[dict] = []
        self.config = {"queue_seconds": 0.5, "run_seconds": 2.0}

    def reset(self) -> None:
        with self.lock:
            self.jobs.clear()
            self.faults.clear()
            self.requests.clear()
            self.config = {"queue_seconds": 0.5, "run_seconds": 2.0}

    def push_fault(
        self, provider: str, op: str, kind: str, times: int = 1, seconds: float | None = None
    ) -> None:
        if kind not in FAULTS or op not in OPS:
            raise ValueError(f"unknown fault {kind!r} or operation {op!r}")
        with self.lock:
            queue = self.faults.setdefault((provider, op), deque())
            queue.extend(Fault(kind, seconds) for _ in range(times))

    def take_fault(self, provider: str, op: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get((provider, op))
            return queue.popleft() if queue else None

    def add_job(self, job: FakeJob) -> FakeJob:
        with self.lock:
            job.queue_seconds = self.config["queue_seconds"]
            job.run_seconds = self.config["run_seconds"]
            self.jobs[job.id] = job
        return job

    def find(self, provider: str, job_id: str) -> FakeJob | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return job if job and job.provider == provider else None

    def find_by_key(self, provider: str, key: str) -> FakeJob | None:
        with self.lock:
            return next(
                (j for j in self.jobs.values() if j.provider == provider and key and j.key == key),
                None,
            )

    def log(self, provider: str, request: Request, body: Any) -> None:
        with self.lock:
            self.requests.append(
                {
                    "provider": provider,
                    "method": request.method,
                    "path": request.path,
                    "query": request.args.to_dict(),
                    "headers": {k.lower(): v for k, v in request.headers.items()},
                    "body": body,
                    "at": time.time(),
                }
            )


class Drop(Exception):
    """Raised by a handler to close the connection without answering."""


def drop_connection(request: Request) -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise Drop


def cdn_answer(fault: Fault, job: FakeJob | None) -> Response:
    """A result download goes to a storage CDN, not to the provider's API: its failures
    are plain HTTP answers whatever the provider's envelope looks like."""
    if fault.kind == "expired":
        if job is not None:
            job.expired = True  # the provider deleted the result: it stays gone from now on
        return Response("not found", status=404)
    if fault.kind == "429":
        return Response(
            "slow down", status=429, headers={"Retry-After": str(int(fault.seconds or 2))}
        )
    if fault.kind == "5xx":
        return Response("service unavailable", status=503)
    if fault.kind == "malformed":
        return Response(
            "<html><body>Bad gateway</body></html>", status=200, content_type="text/html"
        )
    return Response(
        "<Error><Code>AccessDenied</Code></Error>", status=403, content_type="application/xml"
    )


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
    )


class ProviderFake:
    """Base of one provider's fake. Subclasses set ``slug`` and ``rules`` and implement
    the wire-specific hooks; ``server`` gives them the shared state and URLs."""

    slug: ClassVar[str]
    # Canonical statuses that trigger a webhook ("all" changes for Kling).
    webhook_on: ClassVar[frozenset[str]] = frozenset({"succeeded", "failed"})

    def __init__(self, server) -> None:
        self.server = server
        self.state: FakeState = server.state
        self.credentials = sandbox.credentials(self.slug)
        self.url_map = Map(
            [Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in self.rules()]
        )

    # -- to implement ---------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        """werkzeug Rules whose endpoint is the name of a handler method."""
        raise NotImplementedError

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def error(self, kind: str, retry_after: float | None = None) -> Response:
        """The provider's own error answer for a fault kind: "auth", "429", "5xx",
        "moderation", "out_of_credit", "validation", "not_found"."""
        raise NotImplementedError

    def webhook(self, job: FakeJob, status: str) -> tuple[bytes, dict[str, str]]:
        """Body and headers of the webhook for a status change (signed as the provider)."""
        raise NotImplementedError

    # -- shared helpers -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/{self.slug}"

    def result_url(self, job: FakeJob) -> str:
        return f"{self.server.url}/_media/{job.id}.mp4"

    def fault(self, request: Request, op: str, job: FakeJob | None = None) -> Response | None:
        """Apply the next injected fault for ``op``, if any.

        Returns a response to send instead of the normal one, or None to go on
        (after latency). "drop" on submit must be handled by the caller after it has
        created the job; here it is returned as the Fault so the caller can decide.
        """
        fault = self.state.take_fault(self.slug, op)
        if fault is None:
            return None
        if fault.kind == "latency":
            time.sleep(fault.seconds or 1.0)
            return None
        if fault.kind == "timeout":
            time.sleep(fault.seconds or 35.0)
            return Response("upstream timeout", status=504)
        if fault.kind == "malformed" and op != "download":
            return Response(
                '{"status": "ok", "data": {', status=200, content_type="application/json"
            )
        if fault.kind == "drop":
            request.environ["fake.drop"] = True
            return None
        if op == "download":
            return cdn_answer(fault, job)
        if fault.kind in ("moderation", "fail") and op in ("poll", "submit") and job is not None:
            job.outcome, job.error_kind = "failed", fault.kind
            return None
        if fault.kind in ("moderation", "fail") and op == "submit":
            request.environ["fake.fail"] = fault.kind
            return None
        if fault.kind == "429":
            return self.error("429", retry_after=fault.seconds or 2)
        if fault.kind == "5xx":
            return self.error("5xx")
        return self.error(fault.kind)

    def polled(self, request: Request, job: FakeJob | None) -> FakeJob | Response:
        """The job a status request asks about, or the answer to give instead: the
        provider's "not found", or an injected poll fault."""
        if job is None:
            return self.error("not_found")
        return self.fault(request, "poll", job) or job

    def mine(self) -> list[FakeJob]:
        with self.state.lock:
            return [j for j in self.state.jobs.values() if j.provider == self.slug]

    def new_job(self, request: Request, **fields) -> FakeJob:
        """Create a job, applying a submit-time "moderation"/"fail" fault or a prompt
        marker ("[fake:moderation]", "[fake:fail]") as a job that fails later."""
        job = FakeJob(provider=self.slug, **fields)
        kind = request.environ.get("fake.fail")
        for marker in ("moderation", "fail"):
            if f"[fake:{marker}]" in job.prompt:
                kind = marker
        if kind:
            job.outcome, job.error_kind = "failed", kind
        return self.state.add_job(job)

    def after_submit(self, request: Request, response: Response) -> Response:
        """Honour a "drop" fault: the job exists, but its id never reaches the client."""
        if request.environ.get("fake.drop"):
            drop_connection(request)
        return response

    def body(self, request: Request) -> Any:
        raw = request.get_data(cache=True)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")
