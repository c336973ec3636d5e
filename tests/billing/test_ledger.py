"""The ledger: integer amounts, append-only, one reservation and one resolution per take."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.urls import reverse

from studio.billing import reports, services
from studio.billing.models import EntryKind, LedgerEntry
from studio.billing.periods import Period
from studio.generation import pipeline
from studio.generation import services as takes
from studio.generation.models import Generation, Status
from studio.providers.base import PLAIN_REASONS, ErrorKind, ProviderError, RemoteJob, RemoteStatus
from tests import factories
from tests.billing.conftest import SILENT_MICROS, SOUND, SOUND_MICROS, limits, order

pytestmark = pytest.mark.django_db


def test_money_columns_are_integers_in_every_billing_table():
    for model in apps.get_app_config("billing").get_models():
        for field in model._meta.concrete_fields:
            assert not isinstance(field, models.FloatField | models.DecimalField), field
            if field.name.endswith("_micros"):
                assert isinstance(field, models.BigIntegerField), field


def test_a_take_has_one_reservation_and_at_most_one_resolution(owner):
    [take] = order(owner)
    assert services.settle(take)
    assert not services.settle(take), "a duplicate settlement is refused"
    assert not services.release(take, "moderation"), "and so is a release after it"
    with pytest.raises(IntegrityError), transaction.atomic():
        services.reserve(take)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            workspace=owner.workspace,
            generation=take,
            kind=EntryKind.RELEASE,
            held_delta_micros=-take.estimate_micros,
        )
    kinds = LedgerEntry.objects.filter(generation=take).values_list("kind", flat=True)
    assert sorted(kinds) == [EntryKind.RESERVE, EntryKind.SETTLE]


def test_entries_cannot_be_changed_or_removed_through_the_orm(owner):
    [take] = order(owner)
    entry = LedgerEntry.objects.get(generation=take)
    entry.held_delta_micros = 1
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(held_delta_micros=1)
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_an_entry_even_in_raw_sql(owner):
    [take] = order(owner)
    entry = LedgerEntry.objects.get(generation=take)
    for sql in (
        "UPDATE billing_ledgerentry SET held_delta_micros = 0 WHERE id = %s",
        "UPDATE billing_ledgerentry SET generation_id = generation_id WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).held_delta_micros == entry.held_delta_micros


@pytest.mark.postgres
def test_postgresql_lets_a_deleted_person_be_forgotten_and_nothing_else(owner):
    [take] = order(owner)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_ledgerentry SET user_id = NULL WHERE generation_id = %s", [take.pk]
        )
    entry = LedgerEntry.objects.get(generation=take)
    assert (entry.user_id, entry.held_delta_micros) == (None, take.estimate_micros)


def test_a_success_settles_at_the_cost_the_provider_reported(owner, apiframe, fake):
    fake.timing(queue_seconds=0, run_seconds=0)
    [take] = order(owner, account=apiframe, params=SOUND)
    pipeline.advance(str(take.pk))  # sent: the fake accepts it
    take = Generation.objects.get(pk=take.pk)
    job = apiframe_job(take, fake, cost="19")  # Apiframe reported 19 credits, not the listed 25
    pipeline.apply_remote(take, job)
    pipeline.advance(str(take.pk))  # saved and settled
    take = Generation.objects.get(pk=take.pk)
    assert take.status == Status.SUCCEEDED
    settle = LedgerEntry.objects.get(generation=take, kind=EntryKind.SETTLE)
    assert (settle.held_delta_micros, settle.spent_delta_micros) == (-SOUND_MICROS, 190_000)


def apiframe_job(take, fake, *, cost: str | None) -> RemoteJob:
    """What Apiframe's webhook or job endpoint says about a finished take."""
    return RemoteJob(
        external_id=take.external_id,
        status=RemoteStatus.SUCCEEDED,
        video_url=f"{fake.url}/_media/{take.external_id}.mp4",
        cost_units=cost,
    )


@pytest.mark.parametrize(
    ("end", "reason", "words"),
    [
        ("fail", ErrorKind.PERMANENT, "The provider could not make it"),
        ("fail", ErrorKind.MODERATION, "Refused under the provider's content rules"),
        ("decline", "declined", "Declined by an owner"),
        ("cancel", "canceled", "Canceled before sending"),
    ],
)
def test_every_way_a_take_ends_unpaid_releases_it_and_shows_under_releases(
    owner_client, owner, end, reason, words
):
    limits(owner.workspace, editors=end == "decline")
    editor = factories.member(owner.workspace)
    [take] = order(editor)
    if end == "fail":
        assert takes.fail(take, ProviderError(reason, "refused"))
    else:
        assert getattr(takes, end)(take)
    release = LedgerEntry.objects.get(generation=take, kind=EntryKind.RELEASE)
    assert (release.held_delta_micros, release.spent_delta_micros) == (-SILENT_MICROS, 0)
    assert release.reason == reason
    page = owner_client.get(reverse("spend:dashboard")).content.decode()
    releases = page[page.index('id="releases-title"') :]
    assert words.replace("'", "&#x27;") in releases


def test_every_failure_kind_has_plain_words_on_the_dashboard():
    for kind in PLAIN_REASONS:
        assert reports.reason_label(kind) in reports.RELEASE_REASONS.values()


def test_held_is_the_sum_of_open_reservations(owner):
    a, b, c = order(owner, count=3)
    services.settle(a)
    services.release(b, "moderation")
    held = sum(LedgerEntry.objects.values_list("held_delta_micros", flat=True))
    assert held == c.estimate_micros
    workspace, _ = services.commitments(owner.workspace_id, owner.user_id, Period.month_of())
    assert (workspace.held, workspace.spent) == (SILENT_MICROS, SILENT_MICROS)
    assert Generation.objects.get(pk=c.pk).status == Status.QUEUED
