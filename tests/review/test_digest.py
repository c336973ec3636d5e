from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from studio.accounts.roles import Role
from studio.review import services
from studio.review.models import Digest, Notification
from tests import factories
from tests.review.helpers import finished_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def noisy(owner):
    """The owner's take, with two comments from a reviewer waiting in the owner's inbox."""
    reviewer = factories.member(owner.workspace, Role.REVIEWER, name="Rae")
    take = finished_take(owner)
    for body in ("Too dark", "Lovely light"):
        services.add_comment(take=take, body=body, timecode_ms=0, author=reviewer.user)
    return owner


def test_one_digest_email_carries_every_waiting_notification(noisy):
    assert services.send_digests() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [noisy.user.email]
    assert "Too dark" in message.body and "Lovely light" in message.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_running_the_digest_twice_sends_nothing_more(noisy):
    services.send_digests()
    services.send_digests(timezone.now() + timedelta(days=2))
    assert len(mail.outbox) == 1


def test_read_notifications_are_not_emailed(noisy):
    services.mark_read(noisy.user)
    assert services.send_digests() == 0
    assert mail.outbox == []


def test_people_who_turned_digests_off_get_none(noisy):
    prefs = services.digest_settings(noisy.user)
    prefs.digest = Digest.OFF
    prefs.save()
    assert services.send_digests() == 0


def test_an_hourly_digest_waits_an_hour_after_the_last_one(noisy):
    now = timezone.now()
    services.send_digests(now)
    take = finished_take(noisy)
    services.add_comment(take=take, body="More", timecode_ms=0, guest_name="Client")
    assert services.send_digests(now + timedelta(minutes=30)) == 0
    assert services.send_digests(now + timedelta(minutes=61)) == 1
    assert "More" in mail.outbox[-1].body
