"""The approval gate: takes over the threshold, or by editors when owners ask for it,
wait until an owner approves (sent) or declines (released)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.billing import reports
from studio.billing.models import EntryKind, LedgerEntry
from studio.billing.periods import Period
from studio.generation import services
from studio.generation.models import Generation, Status
from tests import factories
from tests.billing.conftest import SILENT_MICROS, SOUND, SOUND_MICROS, limits, order

pytestmark = pytest.mark.django_db


def reload(take):
    return Generation.objects.get(pk=take.pk)


def test_a_take_over_the_threshold_waits_with_its_reservation_held(owner, editor):
    limits(owner.workspace, threshold="0.20")
    cheap = order(editor, count=2)  # $0.15 each: $0.30 in one click, but each under $0.20
    waiting = order(editor, params=SOUND, count=2)  # $0.25 each
    assert {t.status for t in cheap} == {Status.QUEUED}
    assert {t.status for t in waiting} == {Status.AWAITING_APPROVAL}
    assert all(t.deadline_at is None for t in waiting)
    held = LedgerEntry.objects.filter(generation__in=waiting, kind=EntryKind.RESERVE)
    assert [e.held_delta_micros for e in held] == [SOUND_MICROS, SOUND_MICROS]


def test_an_order_exactly_at_the_threshold_does_not_wait(owner, editor):
    limits(owner.workspace, threshold="0.25")
    assert order(editor, params=SOUND)[0].status == Status.QUEUED


def test_when_editors_need_approval_their_paid_orders_wait_but_owners_do_not(owner, editor):
    limits(owner.workspace, editors=True)
    assert order(editor)[0].status == Status.AWAITING_APPROVAL
    assert order(owner)[0].status == Status.QUEUED


def test_owners_orders_never_wait_even_over_the_threshold(owner):
    limits(owner.workspace, threshold="0.00")
    assert order(owner)[0].status == Status.QUEUED


def test_approving_queues_the_take_and_rings_a_worker(
    owner, editor, django_capture_on_commit_callbacks
):
    limits(owner.workspace, editors=True)
    [take] = order(editor)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.approve(take)
    take = reload(take)
    assert take.status == Status.QUEUED and take.deadline_at is not None
    assert len(callbacks) == 1, "the take is enqueued once the approval commits"
    assert not services.approve(take), "a second approval changes nothing"


def test_declining_cancels_the_take_and_the_dashboard_lists_the_release(owner, editor):
    limits(owner.workspace, editors=True)
    [take] = order(editor)
    assert services.decline(take)
    take = reload(take)
    assert take.status == Status.CANCELED
    release = LedgerEntry.objects.get(generation=take, kind=EntryKind.RELEASE)
    assert (release.held_delta_micros, release.reason) == (-SILENT_MICROS, "declined")
    [reason] = reports.spend(owner.workspace, Period.month_of()).reasons
    assert (reason.label, reason.takes, reason.released) == (
        "Declined by an owner",
        1,
        SILENT_MICROS,
    )


def test_the_approvals_page_lists_waiting_takes_with_their_prices(owner_client, owner, editor):
    limits(owner.workspace, editors=True)
    shot = factories.shot(owner.workspace, name="Rooftop chase")
    order(editor, shot=shot)
    order(editor, shot=shot, params=SOUND)
    order(owner)  # an owner's own order does not wait
    page = owner_client.get(reverse("spend:approvals")).content.decode()
    assert page.count('id="approval-') == 2
    assert "Rooftop chase" in page and "Eddie Editor" in page and "Kling 2.6 Pro" in page
    assert "Approve · $0.15" in page and "Approve · $0.25" in page
    assert "<strong>2 takes</strong> waiting, <strong>$0.40</strong> in all." in page


def test_the_nav_counts_waiting_takes_for_owners_only(client, owner_client, owner, editor):
    limits(owner.workspace, editors=True)
    order(editor, count=3)
    page = owner_client.get(reverse("gallery:index")).content.decode()
    assert 'id="approvals-count" class="count">3<' in page
    client.force_login(editor.user)
    assert "approvals-count" not in client.get(reverse("gallery:index")).content.decode()


def test_approve_by_htmx_swaps_the_row_and_updates_the_count(owner_client, owner, editor):
    limits(owner.workspace, editors=True)
    first, second = order(editor, count=2)
    response = owner_client.post(reverse("spend:approve", args=[first.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert f'<tr id="approval-{first.pk}" class="decided"' in html
    assert "Approved." in html and "on its way to Apiframe" in html
    assert re.search(r'id="approvals-count" class="count" hx-swap-oob="true"\s*>1<', html)
    assert "<strong>1 take</strong> waiting, <strong>$0.15</strong> in all." in html
    assert reload(first).status == Status.QUEUED

    response = owner_client.post(reverse("spend:decline", args=[second.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Declined." in html and "$0.15 reservation was released" in html
    assert re.search(r'id="approvals-count" class="count" hx-swap-oob="true"\s*hidden>0<', html)
    assert "Nothing else is waiting." in html


def test_decline_without_htmx_redirects_with_a_message(owner_client, owner, editor):
    limits(owner.workspace, editors=True)
    [take] = order(editor)
    response = owner_client.post(reverse("spend:decline", args=[take.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("spend:approvals")
    assert "Its reservation was released." in response.content.decode()
    again = owner_client.post(reverse("spend:approve", args=[take.pk]), follow=True)
    assert "was already decided: it is Canceled." in again.content.decode()
    assert reload(take).status == Status.CANCELED


def test_only_owners_approve(client, owner, editor, reviewer):
    limits(owner.workspace, editors=True)
    [take] = order(editor)
    for member in (editor, reviewer):
        client.force_login(member.user)
        assert client.get(reverse("spend:approvals")).status_code == 403
        assert client.post(reverse("spend:approve", args=[take.pk])).status_code == 403
        assert client.post(reverse("spend:decline", args=[take.pk])).status_code == 403
    assert reload(take).status == Status.AWAITING_APPROVAL
