import uuid

import pytest

from studio.billing.models import EntryKind, LedgerEntry
from studio.generation import services
from studio.generation.models import Generation, Status
from studio.providers.base import ErrorKind, ProviderError
from tests import factories

pytestmark = pytest.mark.django_db


def test_ordering_creates_a_queued_take_with_its_recipe_and_a_reservation(owner):
    take = factories.take(owner)
    assert take.status == Status.QUEUED
    assert take.compiled_prompt.startswith(
        "A barista pours latte art and smiles. Setting: a sunny café."
    )
    assert take.params == {
        "duration": 5,
        "aspect_ratio": "16:9",
        "resolution": "1080p",
        "audio": True,
    }
    entry = LedgerEntry.objects.get(generation=take)
    assert (entry.kind, entry.held_delta_micros) == (EntryKind.RESERVE, take.estimate_micros)


def test_the_same_submit_key_twice_returns_the_first_takes(owner):
    shot = factories.shot(owner.workspace)
    key = uuid.uuid4()
    order = services.TakeOrder(
        shot=shot,
        membership=owner,
        offer=factories.catalog.offer("preview", "kling-3.0"),
        account=None,
        fields=factories.SCENE,
        params=factories.Params(duration=5, aspect_ratio="9:16", resolution="720p", audio=True),
        count=2,
        request_key=key,
    )
    first = services.order_takes(order)
    again = services.order_takes(order)
    assert [t.pk for t in again] == [t.pk for t in first]
    assert Generation.objects.filter(shot=shot).count() == 2


def test_takes_of_a_shot_are_numbered_in_order(owner):
    shot = factories.shot(owner.workspace)
    numbers = [t.number for t in factories.takes(owner, shot_=shot, count=2)]
    numbers += [factories.take(owner, shot_=shot).number]
    assert numbers == [1, 2, 3]


def test_a_transition_happens_once_and_the_loser_learns_it(owner):
    take = factories.take(owner)
    assert services.transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    assert not services.transition(take.pk, Status.QUEUED, Status.SUBMITTING)


def test_a_transition_outside_the_state_machine_is_refused(owner):
    take = factories.take(owner)
    with pytest.raises(ValueError):
        services.transition(take.pk, Status.SUCCEEDED, Status.RUNNING)


def test_a_failed_take_never_changes_again_and_is_released_once(owner):
    take = factories.take(owner)
    error = ProviderError(ErrorKind.MODERATION, "flagged")
    assert services.fail(take, error)
    assert not services.fail(take, error)
    assert not services.transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    take.refresh_from_db()
    assert take.status == Status.FAILED
    assert take.failure_reason == error.plain
    assert LedgerEntry.objects.filter(generation=take, kind=EntryKind.RELEASE).count() == 1


def test_cancel_releases_a_queued_take(owner):
    take = factories.take(owner)
    assert services.cancel(take)
    take.refresh_from_db()
    assert take.status == Status.CANCELED
    assert LedgerEntry.objects.get(generation=take, kind=EntryKind.RELEASE).reason == "canceled"


def test_a_take_already_sent_cannot_be_canceled(owner):
    take = factories.take(owner)
    services.transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    assert not services.cancel(take)
