"""Budgets and member caps: an order that would go over is refused before anything exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from studio.billing import services
from studio.billing.models import Budget, EntryKind, LedgerEntry, MemberCap
from studio.billing.periods import Period
from studio.billing.services import SpendRefused
from studio.generation.models import Generation, Status
from tests import factories
from tests.billing.conftest import SILENT_MICROS, SOUND, limits, order, usd

pytestmark = pytest.mark.django_db


def month() -> str:
    return Period.month_of().name


def test_an_order_within_the_budget_is_reserved_and_queued(owner, editor):
    limits(owner.workspace, budget="1.00")
    [take] = order(editor)
    assert take.status == Status.QUEUED
    assert LedgerEntry.objects.get(generation=take).held_delta_micros == SILENT_MICROS


def test_an_order_over_the_workspace_budget_is_refused_and_nothing_reaches_the_provider(
    owner, editor, apiframe, fake, eager_tasks, django_capture_on_commit_callbacks
):
    limits(owner.workspace, budget="0.50")
    with django_capture_on_commit_callbacks(execute=True):
        order(editor, account=apiframe, params=SOUND)  # $0.25: fits, and is sent at once
    assert len(fake.requests("apiframe")) == 1, "control: an accepted take reaches the provider"
    fake.reset()
    takes, entries = Generation.objects.count(), LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SpendRefused) as refused:
        order(editor, account=apiframe, count=2)  # $0.30 more: $0.55 of $0.50
    assert refused.value.message == (
        f"This would take the workspace to $0.55 of its $0.50 budget for {month()}. "
        "An owner can raise the budget."
    )
    assert (Generation.objects.count(), LedgerEntry.objects.count()) == (takes, entries)
    assert fake.requests("apiframe") == []


def test_an_owner_is_told_where_to_raise_the_budget(owner):
    limits(owner.workspace, budget="0.10")
    with pytest.raises(SpendRefused) as refused:
        order(owner)
    assert refused.value.message.endswith("You can raise it under Team, Budget.")


def test_the_budget_counts_held_and_settled_takes_and_ignores_released_ones(owner, editor):
    limits(owner.workspace, budget="0.45")
    settled, held, released = (order(editor)[0] for _ in range(3))
    services.settle(settled)
    services.release(released, "moderation")
    order(editor)  # 0.15 settled + 0.15 held + 0.15 new = 0.45: exactly the budget
    with pytest.raises(SpendRefused):
        order(editor)
    assert held.status == Status.QUEUED


def test_a_provider_over_run_counts_at_what_was_charged(owner, editor):
    limits(owner.workspace, budget="1.00")
    [take] = order(editor)
    services.settle(take, cost_micros=usd("0.90"))
    with pytest.raises(SpendRefused) as refused:
        order(editor)
    assert "to $1.05 of its $1.00 budget" in refused.value.message


def test_spend_settled_last_month_does_not_count_this_month(owner, editor, settings):
    settings.TIME_ZONE = "America/New_York"
    limits(owner.workspace, budget="0.20")
    [old] = order(editor)
    # Settled one minute before this month began in New York (already this month in UTC).
    LedgerEntry.objects.create(
        workspace=owner.workspace,
        generation=old,
        user=editor.user,
        kind=EntryKind.SETTLE,
        held_delta_micros=-SILENT_MICROS,
        spent_delta_micros=SILENT_MICROS,
        created_at=Period.month_of().start - timedelta(minutes=1),
    )
    order(editor)  # last month's $0.15 does not count: $0.15 of $0.20
    with pytest.raises(SpendRefused):
        order(editor)


def test_a_member_cap_refuses_that_member_and_not_the_others(owner, editor):
    colleague = factories.member(owner.workspace)
    limits(owner.workspace, caps={editor: "0.20"})
    order(editor)
    with pytest.raises(SpendRefused) as refused:
        order(editor)
    assert refused.value.message == (
        f"This would take you to $0.30 of your $0.20 limit for {month()}. "
        "An owner can raise your limit."
    )
    order(colleague)
    order(colleague)


def test_free_preview_takes_are_never_refused_nor_held_for_approval(owner, editor):
    limits(owner.workspace, budget="0.00", threshold="0.00", editors=True, caps={editor: "0"})
    take = factories.take(editor)  # Preview
    assert (take.status, take.estimate_micros) == (Status.QUEUED, 0)


def test_the_first_order_creates_the_workspace_budget_row(owner):
    assert not Budget.objects.filter(workspace=owner.workspace).exists()
    order(owner)
    budget = Budget.objects.get(workspace=owner.workspace)
    assert budget.monthly_budget_micros is None


def builder_post(take_shot, **changes):
    data = {
        "model": "kling-2.6-pro",
        "provider": "apiframe",
        "duration": "5",
        "aspect_ratio": "16:9",
        "resolution": "1080p",
        "takes": "1",
        "subject": "A barista",
        "action": "pours latte art",
        "request_key": "6f0c1a52-3c55-4a59-9f0e-0d7f3f8f3b11",
    }
    return data | changes


def test_the_builder_warns_before_the_click_and_refuses_next_to_generate(
    client, owner, editor, apiframe
):
    limits(owner.workspace, budget="0.20")
    order(editor)
    shot = factories.shot(owner.workspace)
    client.force_login(editor.user)
    live = client.post(reverse("projects:builder_live_hx", args=[shot.pk]), builder_post(shot))
    note = f"This would take the workspace to $0.30 of its $0.20 budget for {month()}."
    assert note in live.content.decode()
    assert 'aria-describedby="spend-note"' in live.content.decode()

    response = client.post(shot.get_absolute_url(), builder_post(shot))
    assert response.status_code == 400
    assert response.content.decode().count(note) == 2, "as a form error and next to Generate"
    assert not Generation.objects.filter(shot=shot).exists()


def test_the_builder_says_what_is_left_and_when_approval_is_needed(client, owner, editor, apiframe):
    shot = factories.shot(owner.workspace)
    client.force_login(editor.user)
    url = reverse("projects:builder_live_hx", args=[shot.pk])
    assert "spend-note" not in client.post(url, builder_post(shot)).content.decode()

    limits(owner.workspace, budget="1.00", threshold="0.20")
    page = client.post(url, builder_post(shot)).content.decode()
    assert f"$0.85 of the workspace&#x27;s {month()} budget left after this." in page
    page = client.post(url, builder_post(shot, takes="2")).content.decode()
    assert "Needs an owner's approval" not in page, "two $0.15 takes: each under the threshold"
    page = client.post(url, builder_post(shot, audio="on")).content.decode()
    assert "Needs an owner's approval" in page
    assert "before it is sent: takes over $0.20 wait for an owner." in page


def test_the_limits_page_saves_dollars_as_exact_micro_dollars(owner_client, owner, editor):
    url = reverse("budget:index")
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(
        url,
        {
            "monthly_budget": "1234.56",
            "approval_threshold": "0.10",
            "editors_need_approval": "on",
            f"cap_{editor.pk}": "19.99",
            f"cap_{owner.pk}": "",
        },
    )
    assert response.status_code == 302
    budget = Budget.objects.get(workspace=owner.workspace)
    assert budget.monthly_budget_micros == 1_234_560_000
    assert budget.approval_threshold_micros == 100_000
    assert budget.editors_need_approval
    assert MemberCap.objects.get(membership=editor).monthly_cap_micros == 19_990_000
    assert not MemberCap.objects.filter(membership=owner).exists()

    owner_client.post(url, {"monthly_budget": "", "approval_threshold": "", f"cap_{editor.pk}": ""})
    budget.refresh_from_db()
    assert budget.monthly_budget_micros is None
    assert not MemberCap.objects.exists()


def test_the_limits_page_refuses_negative_and_sub_cent_amounts(owner_client, owner):
    url = reverse("budget:index")
    response = owner_client.post(url, {"monthly_budget": "-1", "approval_threshold": "0.001"})
    assert response.status_code == 400
    assert not Budget.objects.filter(workspace=owner.workspace).exists()


def test_only_owners_open_the_limits_page(client, editor, reviewer):
    for member in (editor, reviewer):
        client.force_login(member.user)
        assert client.get(reverse("budget:index")).status_code == 403
        assert client.post(reverse("budget:index"), {"monthly_budget": "9"}).status_code == 403
