"""A real Celery worker process, the real broker and database (SQLite + filesystem
broker in `make test`, PostgreSQL + Redis in CI's second leg)."""

from pathlib import Path

import av
import pytest
from django.conf import settings

from studio.generation.models import Generation, Status
from studio.providers.catalog import Params
from tests import factories
from tests.workers import Worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    started = Worker().start()
    yield started
    started.stop()


def status(take) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=take.pk)


def streams(take) -> tuple[list[str], float]:
    clip = Generation.objects.get(pk=take.pk).clip
    with av.open(str(Path(settings.MEDIA_ROOT) / clip.file.name)) as container:
        codecs = sorted(f"{s.type}:{s.codec_context.name}" for s in container.streams)
        return codecs, container.duration / av.time_base


def test_a_real_worker_renders_preview_clips_of_the_requested_length_and_shape(owner, worker):
    portrait = factories.take(owner, params=Params(5, "9:16", "1080p", True))
    landscape = factories.take(owner, params=Params(10, "16:9", "1080p", True))
    wait_until(
        lambda: {status(portrait), status(landscape)} <= Status.terminal(),
        timeout=120,
        message=f"takes did not finish; worker log:\n{worker.output()[-3000:]}",
    )
    for take, seconds, size in ((portrait, 5, (720, 1280)), (landscape, 10, (1280, 720))):
        assert status(take) == Status.SUCCEEDED
        codecs, duration = streams(take)
        assert codecs == ["audio:aac", "video:h264"]
        assert abs(duration - seconds) <= 0.1
        clip = Generation.objects.get(pk=take.pk).clip
        assert (clip.width, clip.height) == size


def test_killing_the_worker_mid_render_still_ends_the_take(owner):
    quick = {"STUDIO_LEASE_SECONDS": "3", "STUDIO_SWEEP_SECONDS": "2"}
    first = Worker(beat=True, extra_env=quick).start()
    try:
        take = factories.take(owner, model="kling-3.0", params=Params(15, "16:9", "1080p", True))
        wait_until(
            lambda: status(take) == Status.SUBMITTING,
            timeout=60,
            interval=0.02,
            message=f"never started; worker log:\n{first.output()[-3000:]}",
        )
        first.kill()
        assert status(take) == Status.SUBMITTING, "killed while the clip was rendering"
    finally:
        first.kill()
    second = Worker(beat=True, extra_env=quick).start()
    try:
        wait_until(
            lambda: status(take) in Status.terminal(),
            timeout=120,
            message=f"not recovered; worker log:\n{second.output()[-3000:]}",
        )
    finally:
        second.stop()
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED
    assert take.attempts == 2, "one claim by the killed worker, one after the sweeper"
