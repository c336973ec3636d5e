"""Money under concurrency, on PostgreSQL: real threads, real connections, real row locks.

Each race has a negative control that removes the protection and shows the bad outcome
happens, so a passing race test means the protection works, not that the race never
ran (pretix's ``test_quota_race_condition_happens_if_we_disable_locks``). SQLite takes
a database-wide write lock, so these only mean something on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from studio.billing import services
from studio.billing.models import EntryKind, LedgerEntry, MemberCap
from studio.billing.services import SpendRefused
from studio.generation import pipeline
from studio.generation.accounts import save_account
from studio.generation.models import Generation, Status
from studio.generation.services import transition as real_transition
from studio.providers import sandbox
from studio.providers.base import RemoteJob, RemoteStatus
from tests import factories
from tests.billing.conftest import SILENT_MICROS, SOUND, limits, order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
FITS = 10  # takes the budget has room for
PAUSE = 0.05  # seconds each order waits between reading the ledger and reserving
TRIES = 5  # a negative control retries the race until the bad outcome shows


def race(n: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``n`` threads released together; results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # the caller counts the outcomes
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def slow_ledger_reads(execute, sql, params, many, context):
    """Widen the window between "how much is committed?" and the reservation (a test
    hook through Django's own execute_wrapper, like pretix's sleep-after-quota-check)."""
    result = execute(sql, params, many, context)
    if "billing_ledgerentry" in sql and "SUM(" in sql:
        time.sleep(PAUSE)
    return result


# --- 20 orders at once against a budget for 10 ------------------------------------------


def setup_budget(limit: str) -> tuple[object, list]:
    owner = factories.owner()
    editor = factories.member(owner.workspace)
    editor.user  # noqa: B018 - load it once, before the threads share the object
    if limit == "budget":
        limits(owner.workspace, budget="1.50")
    else:
        # A cap and no Budget row yet: the threads also race to create the row they lock.
        MemberCap.objects.create(
            membership=editor, workspace=owner.workspace, monthly_cap_micros=1_500_000
        )
    # One shot each, so the shot's own row lock does not serialize the orders for us.
    shots = [factories.shot(owner.workspace, f"Shot {i}") for i in range(THREADS)]
    return editor, shots


def order_at_once(editor, shots) -> tuple[int, int]:
    def work(i: int):
        with connection.execute_wrapper(slow_ledger_reads):
            return order(editor, shot=shots[i])

    results = race(THREADS, work)
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, SpendRefused)
    ]
    assert unexpected == []
    accepted = sum(1 for r in results if isinstance(r, list))
    return accepted, sum(1 for r in results if isinstance(r, SpendRefused))


def held_and_spent(workspace) -> int:
    return sum(
        e.held_delta_micros + e.spent_delta_micros
        for e in LedgerEntry.objects.filter(workspace=workspace)
    )


@pytest.mark.parametrize("limit", ["budget", "cap"])
def test_twenty_orders_at_once_against_room_for_ten_accept_exactly_ten(limit):
    editor, shots = setup_budget(limit)
    accepted, refused = order_at_once(editor, shots)
    assert (accepted, refused) == (FITS, THREADS - FITS)
    assert held_and_spent(editor.workspace) == FITS * SILENT_MICROS == 1_500_000
    assert Generation.objects.filter(workspace=editor.workspace).count() == FITS


@pytest.mark.parametrize("limit", ["budget", "cap"])
def test_without_the_budget_lock_the_same_race_overspends(limit, settings):
    """Negative control: if this fails, the test above proves nothing."""
    settings.STUDIO_BILLING_LOCKS = False
    for _ in range(TRIES):
        editor, shots = setup_budget(limit)
        accepted, _ = order_at_once(editor, shots)
        if accepted > FITS:
            break
    assert accepted > FITS
    assert held_and_spent(editor.workspace) > 1_500_000


# --- the same success from 10 webhooks and the poller ------------------------------------


def running_apiframe_take(fake):
    """A take Apiframe (the fake) has accepted and finished, not yet known to Studio."""
    fake.timing(queue_seconds=0, run_seconds=0)
    owner = factories.owner()
    keys = sandbox.credentials("apiframe")
    account = save_account(
        workspace=owner.workspace,
        provider="apiframe",
        api_key=keys.api_key,
        base_url=fake.base("apiframe"),
    )
    [take] = order(owner, account=account, params=SOUND)
    pipeline.advance(str(take.pk))
    take = Generation.objects.select_related("provider_account").get(pk=take.pk)
    assert take.status == Status.RUNNING
    return take, keys.api_key


def completed_webhook(take, fake, api_key: str) -> tuple[bytes, str]:
    body = json.dumps(
        {
            "event": "completed",
            "jobId": take.external_id,
            "status": "COMPLETED",
            "progress": 100,
            "result": f"{fake.url}/_media/{take.external_id}.mp4",
            "creditCost": 25,
        }
    ).encode()
    key = hashlib.sha256(api_key.encode()).digest()
    return body, "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def deliver_everywhere(take, fake, api_key: str) -> list[object]:
    """10 signed deliveries of the same webhook and the poller's own success, at once."""
    body, signature = completed_webhook(take, fake, api_key)
    url = f"/webhooks/apiframe/{take.webhook_token}/"
    polled = RemoteJob(
        external_id=take.external_id,
        status=RemoteStatus.SUCCEEDED,
        video_url=f"{fake.url}/_media/{take.external_id}.mp4",
        cost_units="25",
    )

    def work(i: int):
        if i == 10:
            return pipeline.apply_remote(take, polled)
        response = Client().post(
            url, body, content_type="application/json", HTTP_X_WEBHOOK_SIGNATURE=signature
        )
        return response.status_code

    return race(11, work)


def watch_transitions(monkeypatch, transition) -> list[str]:
    """Record every status change the pipeline wins, through ``transition``."""
    won: list[str] = []
    lock = threading.Lock()

    def recording(generation_id, old, new, **changes) -> bool:
        if transition(generation_id, old, new, **changes):
            with lock:
                won.append(new)
            return True
        return False

    monkeypatch.setattr(pipeline, "transition", recording)
    return won


def test_ten_webhooks_and_the_poller_at_once_make_one_transition_and_one_settlement(
    fake, monkeypatch
):
    take, api_key = running_apiframe_take(fake)
    won = watch_transitions(monkeypatch, real_transition)
    results = deliver_everywhere(take, fake, api_key)
    assert results[:10] == [200] * 10 and results[10] is None
    assert won == [Status.DOWNLOADING]

    pipeline.advance(str(take.pk))  # the one download the winner scheduled
    body, signature = completed_webhook(take, fake, api_key)
    for _ in range(10):  # and late duplicates, one after another
        Client().post(
            f"/webhooks/apiframe/{take.webhook_token}/",
            body,
            content_type="application/json",
            HTTP_X_WEBHOOK_SIGNATURE=signature,
        )
    pipeline.advance(str(take.pk))
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED
    settle = LedgerEntry.objects.get(generation=take, kind=EntryKind.SETTLE)
    assert settle.spent_delta_micros == 250_000  # Apiframe's creditCost: 25 credits
    assert LedgerEntry.objects.filter(generation=take).count() == 2
    assert won == [Status.DOWNLOADING, Status.SUCCEEDED]


def unguarded_transition(generation_id, old, new, **changes) -> bool:
    """``transition`` without its compare-and-set: read the status, decide, then write."""
    olds = {old} if isinstance(old, str) else set(old)
    if Generation.objects.get(pk=generation_id).status not in olds:
        return False
    time.sleep(PAUSE)
    Generation.objects.filter(pk=generation_id).update(
        status=new, updated_at=timezone.now(), **changes
    )
    return True


def test_without_the_compare_and_set_the_webhook_race_downloads_twice(fake, monkeypatch):
    """Negative control: if this fails, the test above proves nothing."""
    for _ in range(TRIES):
        take, api_key = running_apiframe_take(fake)
        won = watch_transitions(monkeypatch, unguarded_transition)
        deliver_everywhere(take, fake, api_key)
        if won.count(Status.DOWNLOADING) > 1:
            break
    assert won.count(Status.DOWNLOADING) > 1


# --- ten workers settling the same take ----------------------------------------------------


def settle_at_once(take) -> list[object]:
    return race(10, lambda i: services.settle(take))


def test_ten_workers_settling_one_take_at_once_write_one_settlement():
    [take] = order(factories.owner())
    results = settle_at_once(take)
    assert sorted(results) == [False] * 9 + [True]
    assert LedgerEntry.objects.filter(generation=take, kind=EntryKind.SETTLE).count() == 1


def test_without_the_one_resolution_constraint_ten_workers_settle_ten_times():
    """Negative control: the database constraint, not luck, keeps the count at one."""
    constraint = next(
        c for c in LedgerEntry._meta.constraints if c.name == "one_resolution_per_take"
    )
    with connection.schema_editor() as editor:
        editor.remove_constraint(LedgerEntry, constraint)
    try:
        [take] = order(factories.owner())
        settle_at_once(take)
        settled = LedgerEntry.objects.filter(generation=take, kind=EntryKind.SETTLE).count()
        with connection.cursor() as cursor:  # the data must fit the constraint again
            cursor.execute("TRUNCATE billing_ledgerentry")
    finally:
        with connection.schema_editor() as editor:
            editor.add_constraint(LedgerEntry, constraint)
    assert settled > 1
