from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.accounts.roles import Role
from studio.billing import services as billing
from studio.review import services
from studio.review.models import Outcome, Verdict
from tests import factories
from tests.review.helpers import finish

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(owner):
    """A paid take (fal) with a clip of ``seconds``, settled at ``cost`` micro-USD."""

    def make(cost: int, seconds: float = 5.0, verdicts=()):
        take = finish(factories.take(owner, provider="fal"), duration=seconds)
        billing.settle(take, cost)
        for verdict in verdicts:
            reviewer = factories.member(owner.workspace, Role.REVIEWER)
            services.decide(take, reviewer.user, verdict)
        return take

    return make


def period():
    now = timezone.now()
    return now - timedelta(days=1), now + timedelta(minutes=1)


def test_spend_is_split_by_what_review_made_of_each_take(owner, paid):
    paid(700_000, 5, [Verdict.APPROVED])
    paid(1_400_000, 10, [Verdict.APPROVED, Verdict.APPROVED])
    paid(700_000, 5, [Verdict.APPROVED, Verdict.REJECTED])
    paid(350_000, 5, [Verdict.CHANGES_REQUESTED])
    paid(100_000, 5)
    spend = services.spend_by_outcome(owner.workspace, *period())
    assert spend.micros == {
        Outcome.APPROVED: 2_100_000,
        Outcome.REJECTED: 700_000,
        Outcome.CHANGES_REQUESTED: 350_000,
        Outcome.UNDECIDED: 100_000,
    }
    assert spend.takes[Outcome.APPROVED] == 2
    assert spend.approved_seconds == 15
    # Everything spent (3.25 $) over the approved seconds (15 s).
    assert spend.cost_per_approved_second_micros == 216_667


def test_nothing_approved_has_no_cost_per_approved_second(owner, paid):
    paid(700_000, 5, [Verdict.REJECTED])
    spend = services.spend_by_outcome(owner.workspace, *period())
    assert spend.cost_per_approved_second_micros is None
    assert spend.total_micros == 700_000


def test_spend_outside_the_period_and_free_previews_are_left_out(owner, paid):
    paid(700_000, 5, [Verdict.APPROVED])
    preview = finish(factories.take(owner))
    billing.settle(preview)
    services.decide(preview, owner.user, Verdict.APPROVED)
    start, end = period()
    assert services.spend_by_outcome(owner.workspace, start, end).approved_seconds == 5
    later = services.spend_by_outcome(owner.workspace, end, end + timedelta(days=1))
    assert later.total_micros == 0


def test_another_workspace_spend_is_not_counted(owner, paid):
    paid(700_000, 5, [Verdict.APPROVED])
    other = factories.owner()
    assert services.spend_by_outcome(other.workspace, *period()).total_micros == 0
