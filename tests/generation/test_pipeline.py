"""The worker-side steps, run in-process on real rows with the real Preview renderer
and, for hosted providers, the fake provider over real HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.billing.models import EntryKind, LedgerEntry
from studio.generation import pipeline
from studio.generation.models import Clip, Generation, Status
from studio.generation.services import transition
from tests import factories
from tests.providers.helpers import run_take, sandbox_account

pytestmark = pytest.mark.django_db


def reload(take):
    return Generation.objects.get(pk=take.pk)


def test_a_preview_take_renders_stores_probes_and_settles(owner):
    take = factories.take(owner)
    pipeline.advance(str(take.pk))
    take = reload(take)
    assert take.status == Status.SUCCEEDED
    clip = take.clip
    assert (clip.width, clip.height, clip.video_codec, clip.audio_codec) == (
        1280,
        720,
        "h264",
        "aac",
    )
    assert abs(clip.duration_seconds - 5) < 0.1 and clip.has_audio
    assert clip.file.name.startswith(f"workspaces/{owner.workspace_id}/clips/")
    assert clip.poster.name.endswith(".jpg")
    kinds = sorted(LedgerEntry.objects.filter(generation=take).values_list("kind", flat=True))
    assert kinds == [EntryKind.RESERVE, EntryKind.SETTLE]


def test_a_second_delivery_of_the_same_task_does_nothing(owner):
    take = factories.take(owner)
    pipeline.advance(str(take.pk))
    before = reload(take)
    pipeline.advance(str(take.pk))
    after = reload(take)
    assert after.status == Status.SUCCEEDED
    assert (after.attempts, after.updated_at) == (before.attempts, before.updated_at)
    assert Clip.objects.filter(generation=take).count() == 1
    assert LedgerEntry.objects.filter(generation=take).count() == 2


def test_a_delivery_while_another_worker_holds_the_step_does_nothing(owner):
    take = factories.take(owner)
    transition(
        take.pk,
        Status.QUEUED,
        Status.SUBMITTING,
        lease_until=timezone.now() + timedelta(minutes=2),
        attempts=1,
    )
    pipeline.advance(str(take.pk))
    take = reload(take)
    assert (take.status, take.attempts) == (Status.SUBMITTING, 1)


def test_a_send_abandoned_by_a_dead_worker_is_recovered_once_its_lease_expires(owner):
    take = factories.take(owner)
    transition(
        take.pk,
        Status.QUEUED,
        Status.SUBMITTING,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempts=1,
    )
    pipeline.advance(str(take.pk))
    take = reload(take)
    assert (take.status, take.attempts) == (Status.SUCCEEDED, 2)


def test_a_take_is_attempted_a_bounded_number_of_times(owner, settings):
    settings.STUDIO_MAX_ATTEMPTS = 3
    take = factories.take(owner)
    transition(
        take.pk,
        Status.QUEUED,
        Status.SUBMITTING,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempts=3,
    )
    pipeline.advance(str(take.pk))
    take = reload(take)
    assert take.status == Status.FAILED
    assert "tried this take several times" in take.failure_reason
    assert LedgerEntry.objects.filter(generation=take, kind=EntryKind.RELEASE).exists()


def test_the_sweeper_fails_takes_past_their_deadline_and_releases_them(owner):
    take = factories.take(owner)
    Generation.objects.filter(pk=take.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    assert pipeline.sweep()["expired"] == 1
    take = reload(take)
    assert (take.status, take.failure_kind) == (Status.FAILED, "timeout")
    assert LedgerEntry.objects.filter(generation=take, kind=EntryKind.RELEASE).exists()


def test_the_sweeper_rings_queued_takes_whose_message_was_lost(owner):
    fresh = factories.take(owner)
    lost = factories.take(owner)
    Generation.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    abandoned = factories.take(owner)
    transition(
        abandoned.pk,
        Status.QUEUED,
        Status.SUBMITTING,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    rung = pipeline.sweep()["rung"]
    assert rung == 2, "the lost queued take and the abandoned send, not the fresh one"
    assert reload(fresh).status == Status.QUEUED


@pytest.fixture
def apiframe_account(owner, fake):
    return sandbox_account(owner.workspace, "apiframe", fake)


def test_a_hosted_take_is_sent_polled_downloaded_and_settled_at_the_reported_cost(
    owner, apiframe_account, fake
):
    take = factories.take(
        owner, provider="apiframe", model="kling-2.6-pro", account=apiframe_account
    )
    done = run_take(take)
    assert done.status == Status.SUCCEEDED and done.clip.has_audio
    settled = LedgerEntry.objects.get(generation=take, kind=EntryKind.SETTLE)
    assert settled.spent_delta_micros == 250_000  # 25 credits reported by the provider
    assert len(fake.jobs()) == 1


def test_a_result_deleted_by_the_provider_fails_the_take_in_plain_words(
    owner, apiframe_account, fake
):
    take = factories.take(
        owner, provider="apiframe", model="kling-2.6-pro", account=apiframe_account
    )
    fake.fault("apiframe", "download", "expired", times=5)
    done = run_take(take)
    assert done.status == Status.FAILED
    assert done.failure_reason == "The provider deleted the video before Studio could save it."


def test_a_lost_answer_on_send_is_reconciled_without_a_second_job(owner, apiframe_account, fake):
    take = factories.take(
        owner, provider="apiframe", model="kling-2.6-pro", account=apiframe_account
    )
    fake.fault("apiframe", "submit", "drop")
    done = run_take(take)
    assert done.status == Status.SUCCEEDED, (done.failure_reason, done.failure_detail)
    assert len(fake.jobs()) == 1


@pytest.mark.django_db(transaction=True)  # the poller uses threads, each its own connection
def test_poll_due_polls_running_takes_that_are_due(owner, apiframe_account, fake):
    take = factories.take(
        owner, provider="apiframe", model="kling-2.6-pro", account=apiframe_account
    )
    pipeline.advance(str(take.pk))
    assert reload(take).status == Status.RUNNING
    import time

    time.sleep(1.0)  # the fake finishes the job
    Generation.objects.filter(pk=take.pk).update(next_poll_at=timezone.now())
    assert pipeline.poll_due() == 1
    assert reload(take).status == Status.DOWNLOADING


def running_take(owner, account):
    take = factories.take(owner, provider="apiframe", model="kling-2.6-pro", account=account)
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    transition(take.pk, Status.SUBMITTING, Status.RUNNING, external_id="job-1")
    return reload(take)


def test_done_without_a_result_yet_keeps_polling_instead_of_failing(owner, apiframe_account):
    from studio.providers.base import RemoteJob, RemoteStatus

    take = running_take(owner, apiframe_account)
    pipeline.apply_remote(take, RemoteJob("job-1", RemoteStatus.SUCCEEDED))
    assert reload(take).status == Status.RUNNING


@pytest.mark.parametrize("reported", ["NaN", "Infinity", "-5", "many"])
def test_a_nonsense_reported_cost_settles_at_the_estimate(owner, apiframe_account, reported):
    take = running_take(owner, apiframe_account)
    Generation.objects.filter(pk=take.pk).update(provider_cost_units=reported)
    assert pipeline._reported_cost(reload(take)) is None
