"""Building requests and credentials for adapter tests against the fake provider."""

from __future__ import annotations

import time
import uuid

from studio.providers import catalog, registry, sandbox
from studio.providers.base import (
    GenerationRequest,
    ImageInput,
    RemoteJob,
    RemoteStatus,
    WebhookCall,
)


def adapter(slug: str, fake, **overrides):
    keys = sandbox.credentials(slug, base_url=fake.base(slug))
    if overrides:
        keys = type(keys)(**(keys.__dict__ | overrides))
    return registry.get(slug)(keys)


def request(provider: str, family: str, **changes) -> GenerationRequest:
    offer = catalog.offer(provider, family)
    assert offer is not None
    values = dict(
        job_id=str(uuid.uuid4()),
        offer=offer,
        prompt="A red fox trotting through fresh snow at dawn.",
        negative_prompt="",
        duration=offer.allowed_durations[0],
        aspect_ratio=offer.allowed_aspect_ratios[0],
        resolution=offer.allowed_resolutions[-1],
        audio=offer.has_audio,
    )
    return GenerationRequest(**(values | changes))


def wait_for(adapter_, req: GenerationRequest, job: RemoteJob, timeout: float = 15) -> RemoteJob:
    """Poll like the pipeline does until the job ends."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = adapter_.poll(req, job)
        if job.status.is_terminal:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.external_id} did not finish: {job.status}")


def statuses(adapter_, req: GenerationRequest, job: RemoteJob) -> list[RemoteStatus]:
    """Every distinct status a job goes through, polling until it ends."""
    seen = [job.status]
    while not job.status.is_terminal:
        time.sleep(0.05)
        job = adapter_.poll(req, job)
        if job.status != seen[-1]:
            seen.append(job.status)
    return seen


def image(name: str) -> ImageInput:
    """A start or end image as the pipeline hands it to an adapter."""
    return ImageInput(
        url=f"https://media.example/{name}.png", data=b"png", content_type="image/png"
    )


def call(body: bytes, headers: dict[str, str]) -> WebhookCall:
    return WebhookCall(body=body, headers=headers, query={})


def running(job: RemoteJob) -> RemoteJob:
    return RemoteJob(
        external_id=job.external_id, status=RemoteStatus.RUNNING, poll_hint=job.poll_hint
    )


def sandbox_account(workspace, slug: str, fake):
    """The workspace's account at the fake provider, with every sandbox key."""
    from studio.generation.accounts import save_account

    keys = sandbox.credentials(slug)
    return save_account(
        workspace=workspace,
        provider=slug,
        api_key=keys.api_key,
        secret_key=keys.secret_key,
        webhook_secret=keys.webhook_secret,
        base_url=fake.base(slug),
    )


def run_take(take, timeout: float = 60):
    """Drive a take through the real pipeline until it ends, as worker and poller would,
    without waiting out poll intervals and backoffs."""
    from django.utils import timezone

    from studio.generation import pipeline
    from studio.generation.models import Generation

    deadline = time.time() + timeout
    while time.time() < deadline:
        Generation.objects.filter(pk=take.pk).update(next_poll_at=timezone.now(), lease_until=None)
        pipeline.advance(str(take.pk))
        take.refresh_from_db()
        if take.is_terminal:
            return take
        time.sleep(0.2)
    raise AssertionError(f"take {take.pk} still {take.status} after {timeout}s")
