"""The worker side of a take: each step is a repeatable function of the row.

``advance(id)`` looks at the take's status and does the one step it needs (send,
recover a send, poll, save the video). Each step starts with a compare-and-set claim,
so a task delivered twice, a webhook racing the poller or a worker that died mid-step
all end the same way. Retries are scheduled on the row (``next_poll_at`` or a short
lease) and rung again by a countdown or by the beat sweeper; a step is claimed at most
``STUDIO_MAX_ATTEMPTS`` times before the take fails.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from studio.billing import services as billing
from studio.generation.models import Clip, Generation, Status
from studio.generation.requests import adapter_for, build_request
from studio.generation.services import fail, give_up, transition
from studio.lib import http
from studio.media.keys import new_key
from studio.media.poster import poster_jpeg
from studio.media.probe import NotAVideo, probe
from studio.providers import catalog, registry
from studio.providers.base import ErrorKind, ProviderError, RemoteJob, RemoteStatus

log = logging.getLogger(__name__)

FIRST_POLL = 3.0  # seconds after the provider accepts a take
MAX_POLL = 30.0
SWEEP_GRACE = timedelta(seconds=30)  # a fresh queued take is the on-commit enqueue's job
COUNTDOWN_CAP = 60  # never schedule further ahead through the broker (visibility timeout)


def advance(generation_id: str) -> None:
    take = Generation.objects.filter(pk=generation_id).select_related("provider_account").first()
    if take is None or take.is_terminal:
        return
    step = {
        Status.QUEUED: _send,
        Status.SUBMITTING: _recover_send,
        Status.RUNNING: _poll,
        Status.DOWNLOADING: _save,
    }.get(Status(take.status))
    if step is not None:
        step(take)


# --- claiming --------------------------------------------------------------------------


def _claimed(
    take: Generation, query, *, lease: float | None = None, **changes
) -> Generation | None:
    """Win the step for this worker, or None if someone else has it or it moved on.

    The lease says how long the step may take before the sweeper assumes its worker died;
    it must outlast the step, or a slow but healthy step would be started twice.
    """
    now = timezone.now()
    until = now + timedelta(seconds=lease or settings.STUDIO_LEASE_SECONDS)
    won = query.update(lease_until=until, attempts=F("attempts") + 1, updated_at=now, **changes)
    if not won:
        return None
    take.refresh_from_db()
    if take.attempts > settings.STUDIO_MAX_ATTEMPTS:
        give_up(
            take,
            ErrorKind.TRANSIENT,
            reason="Studio tried this take several times and could not finish it.",
            detail=f"{take.attempts - 1} attempts at step {take.status}",
        )
        return None
    return take


def _lease_free(now) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def backoff(attempt: int, *, base: float = 2.0, cap: float = 60.0) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries spread out."""
    delay = min(cap, base * 2 ** max(attempt - 1, 0))
    return delay / 2 + random.uniform(0, delay / 2)


def schedule(take: Generation, delay: float) -> None:
    """Ring the take again after ``delay`` seconds (the sweeper covers longer waits)."""
    from studio.generation.tasks import advance_take

    if delay <= COUNTDOWN_CAP:
        transaction.on_commit(
            lambda: advance_take.apply_async((str(take.pk),), countdown=max(0, math.ceil(delay)))
        )


# --- send ------------------------------------------------------------------------------


def _send(take: Generation) -> None:
    now = timezone.now()
    query = Generation.objects.filter(pk=take.pk, status=Status.QUEUED).filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    )
    claimed = _claimed(take, query, status=Status.SUBMITTING, submitted_at=now, next_poll_at=None)
    if claimed:
        _submit(claimed, recovering=False)


def _recover_send(take: Generation) -> None:
    """A worker died (or lost the answer) while sending: the provider may have the take."""
    now = timezone.now()
    query = Generation.objects.filter(pk=take.pk, status=Status.SUBMITTING).filter(_lease_free(now))
    claimed = _claimed(take, query)
    if claimed is None:
        return
    if not adapter_for(claimed).reconcilable:
        give_up(
            claimed, ErrorKind.AMBIGUOUS, detail="send interrupted; provider has no way to check"
        )
        return
    _submit(claimed, recovering=True)


def _submit(take: Generation, *, recovering: bool) -> None:
    provider = adapter_for(take)
    request = build_request(take)
    job: RemoteJob | None = None
    try:
        if recovering:
            job = provider.reconcile(request)
    except ProviderError as error:
        if error.kind.retryable or error.kind == ErrorKind.AMBIGUOUS:
            _retry_recovery(take, error)
        else:
            fail(take, error)
        return
    try:
        job = job or provider.submit(request)
    except ProviderError as error:
        if error.kind == ErrorKind.AMBIGUOUS and provider.reconcilable:
            _retry_recovery(take, error)
        elif error.kind.retryable:
            # Nothing was accepted (the adapter only says retryable when that is known):
            # back to the queue, due again after the backoff or the provider's Retry-After.
            delay = error.retry_after or backoff(take.attempts)
            if transition(
                take.pk,
                Status.SUBMITTING,
                Status.QUEUED,
                lease_until=None,
                next_poll_at=timezone.now() + timedelta(seconds=delay),
            ):
                schedule(take, delay)
        else:
            fail(take, error)
        return
    _accept(take, job)


def _retry_recovery(take: Generation, error: ProviderError) -> None:
    """Stay in ``submitting`` and check again with the provider after a backoff."""
    delay = error.retry_after or backoff(take.attempts)
    Generation.objects.filter(pk=take.pk, status=Status.SUBMITTING).update(
        lease_until=timezone.now() + timedelta(seconds=delay)
    )
    schedule(take, delay + 1)


def _with_result(job: RemoteJob) -> RemoteJob:
    """A job that says "done" but carries no result yet (a replayed submit, a result the
    provider has not published) is still running for us: poll it until the result shows."""
    if job.status == RemoteStatus.SUCCEEDED and not job.video_url and job.video_file is None:
        return dataclasses.replace(job, status=RemoteStatus.RUNNING)
    return job


def _accept(take: Generation, job: RemoteJob) -> None:
    job = _with_result(job)
    common = {"external_id": job.external_id[:200], "poll_hint": job.poll_hint[:500]}
    if job.status == RemoteStatus.FAILED:
        Generation.objects.filter(pk=take.pk).update(**common)
        fail(take, job.error or ProviderError(ErrorKind.PERMANENT))
    elif job.status == RemoteStatus.SUCCEEDED and job.video_file is not None:
        # Rendered here (Preview): keep the lease and store it in the same step.
        if transition(take.pk, Status.SUBMITTING, Status.DOWNLOADING, **common):
            take.refresh_from_db()
            _ingest(take, job.video_file)
    elif job.status == RemoteStatus.SUCCEEDED:
        if transition(
            take.pk,
            Status.SUBMITTING,
            Status.DOWNLOADING,
            result_url=job.video_url,
            provider_cost_units=job.cost_units or "",
            lease_until=None,
            attempts=0,
            **common,
        ):
            schedule(take, 0)
    elif transition(
        take.pk,
        Status.SUBMITTING,
        Status.RUNNING,
        lease_until=None,
        attempts=0,
        progress=job.progress,
        poll_interval=FIRST_POLL,
        next_poll_at=timezone.now() + timedelta(seconds=FIRST_POLL),
        **common,
    ):
        log.info("take %s accepted by %s as %s", take.pk, take.provider, job.external_id)


# --- follow ----------------------------------------------------------------------------


def apply_remote(take: Generation, job: RemoteJob) -> None:
    """What the provider says about a running take (from a poll or a signed webhook).

    Only moves forward: a late "processing" after success, or a duplicate success,
    finds the take no longer running and changes nothing.
    """
    job = _with_result(job)
    if job.status == RemoteStatus.SUCCEEDED:
        if transition(
            take.pk,
            Status.RUNNING,
            Status.DOWNLOADING,
            result_url=job.video_url,
            provider_cost_units=job.cost_units or "",
            lease_until=None,
            attempts=0,
            progress=100,
        ):
            schedule(take, 0)
    elif job.status == RemoteStatus.FAILED:
        fail(take, job.error or ProviderError(ErrorKind.PERMANENT), old=[Status.RUNNING])
    elif job.progress is not None:
        Generation.objects.filter(pk=take.pk, status=Status.RUNNING).update(progress=job.progress)


def _poll(take: Generation) -> None:
    now = timezone.now()
    interval = min(MAX_POLL, take.poll_interval * 1.5)
    # Claiming by moving next_poll_at means two pollers never poll the same take at once.
    won = Generation.objects.filter(
        pk=take.pk, status=Status.RUNNING, next_poll_at__lte=now
    ).update(next_poll_at=now + timedelta(seconds=interval), poll_interval=interval)
    if not won:
        return
    provider = adapter_for(take)
    current = RemoteJob(
        external_id=take.external_id, status=RemoteStatus.RUNNING, poll_hint=take.poll_hint
    )
    try:
        job = provider.poll(build_request(take, images=False), current)
    except ProviderError as error:
        if error.kind.retryable or error.kind == ErrorKind.AMBIGUOUS:
            if error.retry_after and error.retry_after > interval:
                Generation.objects.filter(pk=take.pk, status=Status.RUNNING).update(
                    next_poll_at=now + timedelta(seconds=error.retry_after)
                )
            return
        fail(take, error, old=[Status.RUNNING])
        return
    apply_remote(take, job)


def poll_due(limit: int = 200, tick: float = 3.0) -> int:
    """Poll every running take whose turn has come, a few at a time per provider.

    Runs from beat every ``tick`` seconds; each provider gets at most its rate limit's
    worth of polls per tick (the rest stay due and go next tick).
    """
    now = timezone.now()
    due = list(
        Generation.objects.filter(status=Status.RUNNING, next_poll_at__lte=now)
        .order_by("next_poll_at")
        .values_list("pk", "provider")[:limit]
    )
    budget: dict[str, int] = {}
    chosen = []
    for pk, provider in due:
        allowed = max(1, int(registry.get(provider).rate_limit_per_second * tick))
        if budget.get(provider, 0) < allowed:
            budget[provider] = budget.get(provider, 0) + 1
            chosen.append(str(pk))
    if chosen:
        with ThreadPoolExecutor(max_workers=min(8, len(chosen))) as pool:
            list(pool.map(_poll_in_thread, chosen))
    return len(chosen)


def _poll_in_thread(generation_id: str) -> None:
    try:
        take = (
            Generation.objects.filter(pk=generation_id, status=Status.RUNNING)
            .select_related("provider_account")
            .first()
        )
        if take is not None:
            _poll(take)  # only polls: a take that moved on is its own task's business
    except Exception:
        log.exception("polling take %s failed", generation_id)
    finally:
        close_old_connections()


# --- save ------------------------------------------------------------------------------


def _save(take: Generation) -> None:
    now = timezone.now()
    query = Generation.objects.filter(pk=take.pk, status=Status.DOWNLOADING).filter(
        _lease_free(now)
    )
    # Downloading, probing and storing may use the task's whole time limit.
    claimed = _claimed(take, query, lease=settings.CELERY_TASK_TIME_LIMIT)
    if claimed is None:
        return
    folder = Path(tempfile.mkdtemp(prefix="studio-download-"))
    try:
        downloaded = http.download(
            claimed.result_url,
            folder / "result.mp4",
            kind="video",
            max_bytes=settings.STUDIO_MAX_DOWNLOAD_BYTES,
            deadline=settings.CELERY_TASK_SOFT_TIME_LIMIT / 2,
        )
    except http.HttpError as error:
        shutil.rmtree(folder, ignore_errors=True)
        _download_failed(claimed, error)
        return
    _ingest(claimed, downloaded.path)


def _download_failed(take: Generation, error: http.HttpError) -> None:
    status = getattr(error, "status_code", None)
    if status in (404, 410, 403):
        give_up(
            take,
            ErrorKind.PERMANENT,
            reason="The provider deleted the video before Studio could save it.",
            detail=str(error),
        )
    elif isinstance(error, http.Refused | http.TooLarge | http.BadContent):
        give_up(
            take,
            ErrorKind.PERMANENT,
            reason="The provider's result was not a video Studio could safely save.",
            detail=str(error),
        )
    else:
        delay = backoff(take.attempts, base=5)
        Generation.objects.filter(pk=take.pk, status=Status.DOWNLOADING).update(
            lease_until=timezone.now() + timedelta(seconds=delay)
        )
        schedule(take, delay + 1)


def _ingest(take: Generation, path: Path) -> None:
    """Probe, store and publish the clip, then charge the take, all or nothing."""
    try:
        info = probe(path)
        poster = poster_jpeg(path)
    except NotAVideo as error:
        give_up(
            take,
            ErrorKind.PERMANENT,
            reason="The provider's result was not a playable video.",
            detail=str(error),
        )
        shutil.rmtree(path.parent, ignore_errors=True)
        return
    with path.open("rb") as handle:
        clip_name = default_storage.save(new_key(take.workspace_id, "clips", "mp4"), File(handle))
    poster_name = default_storage.save(
        new_key(take.workspace_id, "posters", "jpg"), ContentFile(poster)
    )
    shutil.rmtree(path.parent, ignore_errors=True)
    with transaction.atomic():
        if not transition(take.pk, Status.DOWNLOADING, Status.SUCCEEDED, progress=100):
            transaction.on_commit(lambda: _delete(clip_name, poster_name))
            return
        Clip.objects.create(
            generation=take,
            workspace_id=take.workspace_id,
            file=clip_name,
            poster=poster_name,
            size_bytes=default_storage.size(clip_name),
            duration_seconds=info.duration_seconds,
            width=info.width,
            height=info.height,
            fps=info.fps,
            video_codec=info.video_codec,
            audio_codec=info.audio_codec,
            has_audio=info.has_audio,
        )
        billing.settle(take, _reported_cost(take))


def _reported_cost(take: Generation) -> int | None:
    offer = catalog.offer(take.provider, take.model)
    if offer is None or not take.provider_cost_units:
        return None
    try:
        units = Decimal(take.provider_cost_units)
    except InvalidOperation:
        return None
    if not units.is_finite() or units < 0:
        return None  # NaN, infinity or a negative "cost" would corrupt the ledger
    return offer.rates.to_usd_micros(units)


def _delete(*names: str) -> None:
    for name in names:
        default_storage.delete(name)


# --- sweep -----------------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Find takes a crash, a lost message or a lost webhook left behind, and ring them.

    Also ends takes that outlived their deadline. Everything here is derived from the
    rows alone, so it is safe to run any number of times, from any number of beats.
    """
    from studio.generation.tasks import advance_take

    now = timezone.now()
    expired = list(Generation.objects.filter(status__in=Status.active(), deadline_at__lt=now))
    for take in expired:
        give_up(take, ErrorKind.TIMEOUT, detail=f"deadline {take.deadline_at:%Y-%m-%d %H:%M}")
    stale = Generation.objects.filter(
        Q(status=Status.QUEUED, next_poll_at__lte=now)
        | Q(status=Status.QUEUED, next_poll_at__isnull=True, updated_at__lte=now - SWEEP_GRACE)
        | (Q(status__in=[Status.SUBMITTING, Status.DOWNLOADING]) & _lease_free(now))
        | Q(status=Status.RUNNING, next_poll_at__lte=now - timedelta(seconds=MAX_POLL))
    ).values_list("pk", flat=True)[:500]
    stale = [str(pk) for pk in stale]
    for pk in stale:
        advance_take.delay(pk)
    return {"expired": len(expired), "rung": len(stale)}
