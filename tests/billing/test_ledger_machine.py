"""Model-based test of the ledger (reliability.md section 2.5 and acceptance test 13).

Hypothesis drives the real services and pipeline in random orders: orders (some over the
approval threshold), owners approving, declining and canceling, workers sending and
saving, the poller, signed webhooks (and their duplicates), workers dying mid-step,
deadlines passing and the sweeper. Hosted takes go to the fake provider over real HTTP.
After every step the ledger must agree with the takes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, F, Q, Sum
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from studio.accounts.roles import Role
from studio.billing import services
from studio.billing.models import EntryKind, LedgerEntry
from studio.billing.periods import Period
from studio.billing.services import SpendRefused
from studio.generation import pipeline
from studio.generation import services as takes
from studio.generation.accounts import save_account
from studio.generation.models import Clip, Generation, Status
from studio.providers import catalog, sandbox
from tests import factories
from tests.billing.conftest import SILENT, SOUND, limits, order

pytestmark = pytest.mark.django_db

BUDGET = "2.00"
THRESHOLD = "0.40"  # two takes with sound ($0.50) wait for an owner
CREDIT = catalog.offer("apiframe", "kling-2.6-pro").rates


class LedgerMachine(RuleBasedStateMachine):
    fake = None  # the fake provider, set by the test

    taken = Bundle("takes")

    def __init__(self) -> None:
        super().__init__()
        self.fake.timing(queue_seconds=0, run_seconds=0)
        owner = factories.owner()
        self.workspace = owner.workspace
        self.owner = owner
        self.editor = factories.member(self.workspace, Role.EDITOR)
        self.editor.user  # noqa: B018 - loaded once
        keys = sandbox.credentials("apiframe")
        self.api_key = keys.api_key
        self.account = save_account(
            workspace=self.workspace,
            provider="apiframe",
            api_key=keys.api_key,
            base_url=self.fake.base("apiframe"),
        )
        limits(self.workspace, budget=BUDGET, threshold=THRESHOLD)
        self.shot = factories.shot(self.workspace)
        self.deliveries: dict = {}  # take id -> the last webhook body sent for it
        self.client = Client()

    def take(self, pk) -> Generation:
        return Generation.objects.select_related("provider_account").get(pk=pk)

    # -- people ------------------------------------------------------------------------

    @rule(target=taken, count=st.integers(1, 2), sound=st.booleans(), by_owner=st.booleans())
    def submit(self, count, sound, by_owner):
        try:
            new = order(
                self.owner if by_owner else self.editor,
                count=count,
                params=SOUND if sound else SILENT,
                shot=self.shot,
                account=self.account,
            )
        except SpendRefused:
            return multiple()
        return multiple(*(t.pk for t in new))

    @rule(pk=taken)
    def approve(self, pk):
        takes.approve(self.take(pk))

    @rule(pk=taken)
    def decline(self, pk):
        takes.decline(self.take(pk))

    @rule(pk=taken)
    def cancel(self, pk):
        takes.cancel(self.take(pk))

    # -- workers -----------------------------------------------------------------------

    @rule(pk=taken)
    def worker_step(self, pk):
        """A task delivery: send, recover, or save, whatever the row needs (or nothing)."""
        pipeline.advance(str(pk))

    @rule(pk=taken)
    def poller(self, pk):
        """The poller's turn comes: it asks the (fake) provider, which has finished."""
        Generation.objects.filter(pk=pk, status=Status.RUNNING).update(next_poll_at=timezone.now())
        pipeline.advance(str(pk))

    @rule(pk=taken)
    def worker_crash(self, pk):
        """A worker claims the take's step and dies; its lease has run out since."""
        gone = timezone.now() - timedelta(seconds=1)
        claim = {"lease_until": gone, "attempts": F("attempts") + 1}
        if not takes.transition(pk, Status.QUEUED, Status.SUBMITTING, **claim):
            Generation.objects.filter(pk=pk, status=Status.DOWNLOADING).update(**claim)

    @rule(pk=taken)
    def deadline_passes(self, pk):
        Generation.objects.filter(pk=pk, deadline_at__isnull=False).update(
            deadline_at=timezone.now() - timedelta(seconds=1)
        )

    @rule()
    def sweeper_tick(self):
        pipeline.sweep()

    # -- the provider's webhooks -------------------------------------------------------

    # The listed prices are 15 credits (silent) and 25 (sound): 25 and 30 are over-runs.
    @rule(pk=taken, credits=st.sampled_from([None, 10, 15, 25, 30]))
    def webhook_success(self, pk, credits):
        take = self.take(pk)
        if take.external_id:
            self.deliver(
                take,
                "completed",
                {
                    "status": "COMPLETED",
                    "creditCost": credits,
                    "result": f"{self.fake.url}/_media/{take.external_id}.mp4",
                },
            )

    @rule(pk=taken, moderated=st.booleans())
    def webhook_failure(self, pk, moderated):
        take = self.take(pk)
        if take.external_id:
            error = "Prompt violates content policy" if moderated else "Generation failed"
            self.deliver(take, "failed", {"status": "FAILED", "error": error})

    @rule(pk=taken)
    def duplicate_delivery(self, pk):
        """The provider sends its last webhook again, and a task is delivered twice."""
        if pk in self.deliveries:
            self.post(self.take(pk), self.deliveries[pk])
        pipeline.advance(str(pk))

    def deliver(self, take, event: str, fields: dict) -> None:
        body = json.dumps({"event": event, "jobId": take.external_id, **fields}).encode()
        self.deliveries[take.pk] = body
        self.post(take, body)

    def post(self, take, body: bytes) -> None:
        key = hashlib.sha256(self.api_key.encode()).digest()
        signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        response = self.client.post(
            f"/webhooks/apiframe/{take.webhook_token}/",
            body,
            content_type="application/json",
            HTTP_X_WEBHOOK_SIGNATURE=signature,
        )
        assert response.status_code == 200

    # -- invariants (reliability.md 2.5) -----------------------------------------------

    def entries(self):
        return LedgerEntry.objects.filter(workspace=self.workspace)

    @invariant()
    def every_take_has_one_reservation_and_at_most_one_resolution(self):
        counts = Generation.objects.filter(workspace=self.workspace).annotate(
            reserved=Count("ledger_entries", filter=Q(ledger_entries__kind=EntryKind.RESERVE)),
            resolved=Count("ledger_entries", filter=~Q(ledger_entries__kind=EntryKind.RESERVE)),
        )
        for take in counts:
            assert take.reserved == 1, take
            assert take.resolved <= 1, take

    @invariant()
    def held_is_the_sum_of_open_reservations(self):
        held = self.entries().aggregate(held=Sum("held_delta_micros", default=0))["held"]
        open_takes = Generation.objects.filter(workspace=self.workspace).exclude(
            ledger_entries__kind__in=[EntryKind.SETTLE, EntryKind.RELEASE]
        )
        assert held == sum(t.estimate_micros for t in open_takes)
        assert held >= 0

    @invariant()
    def terminal_takes_are_resolved_the_way_they_ended(self):
        resolutions = dict(
            self.entries().exclude(kind=EntryKind.RESERVE).values_list("generation_id", "kind")
        )
        for take in Generation.objects.filter(workspace=self.workspace):
            expected = {
                Status.SUCCEEDED: EntryKind.SETTLE,
                Status.FAILED: EntryKind.RELEASE,
                Status.CANCELED: EntryKind.RELEASE,
            }.get(take.status)
            assert resolutions.get(take.pk) == expected, (take.status, resolutions.get(take.pk))

    @invariant()
    def a_settlement_charges_the_reported_cost_or_the_estimate(self):
        for entry in self.entries().filter(kind=EntryKind.SETTLE).select_related("generation"):
            take = entry.generation
            reported = take.provider_cost_units
            expected = CREDIT.to_usd_micros(Decimal(reported)) if reported else take.estimate_micros
            assert entry.spent_delta_micros == expected >= 0
            assert Clip.objects.filter(generation=take).exists()

    @invariant()
    def only_settlements_spend_and_only_over_runs_pass_the_budget(self):
        assert not self.entries().exclude(kind=EntryKind.SETTLE).exclude(spent_delta_micros=0)
        workspace, _ = services.commitments(
            self.workspace.pk, self.owner.user_id, Period.month_of()
        )
        # What providers charged above the estimate is known only after the check.
        over_runs = sum(
            max(0, e.spent_delta_micros + e.held_delta_micros)
            for e in self.entries().filter(kind=EntryKind.SETTLE)
        )
        assert workspace.total - over_runs <= int(Decimal(BUDGET) * 1_000_000)


def test_the_ledger_keeps_its_invariants_whatever_happens(fake, eager_tasks):
    LedgerMachine.fake = fake
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            database=None,  # nothing written into the source tree; failures print a blob
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
