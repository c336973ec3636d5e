"""Paid takes for billing tests: Apiframe's Kling 2.6 Pro, priced in credits at $0.01.

A 5-second silent take costs 15 credits ($0.15), with sound 25 credits ($0.25).
"""

from __future__ import annotations

import pytest

from studio.accounts.roles import Role
from studio.billing import services
from studio.generation.accounts import save_account
from studio.providers import sandbox
from studio.providers.catalog import Params
from tests import factories

SILENT = Params(duration=5, aspect_ratio="16:9", resolution="1080p", audio=False)
SOUND = Params(duration=5, aspect_ratio="16:9", resolution="1080p", audio=True)
SILENT_MICROS = 150_000
SOUND_MICROS = 250_000


def usd(dollars: str) -> int:
    """'0.50' -> 500000 micro-USD (exact, from the string)."""
    whole, _, cents = dollars.partition(".")
    return int(whole) * 1_000_000 + int((cents + "000000")[:6])


def order(membership, *, count: int = 1, params: Params = SILENT, shot=None, account=None):
    """Order paid takes through the real service (authorize, reserve, queue)."""
    return factories.takes(
        membership,
        provider="apiframe",
        model="kling-2.6-pro",
        params=params,
        count=count,
        shot_=shot,
        account=account,
    )


def limits(
    workspace,
    *,
    budget: str | None = None,
    threshold: str | None = None,
    editors: bool = False,
    caps: dict | None = None,
):
    return services.set_limits(
        workspace,
        monthly_budget_micros=None if budget is None else usd(budget),
        approval_threshold_micros=None if threshold is None else usd(threshold),
        editors_need_approval=editors,
        caps={m.pk: None if cap is None else usd(cap) for m, cap in (caps or {}).items()},
    )


@pytest.fixture
def editor(workspace):
    return factories.member(workspace, Role.EDITOR, name="Eddie Editor")


@pytest.fixture
def reviewer(workspace):
    return factories.member(workspace, Role.REVIEWER, name="Rita Reviewer")


@pytest.fixture
def apiframe(workspace, fake):
    """The workspace's Apiframe account on the fake provider (real HTTP, sandbox keys)."""
    keys = sandbox.credentials("apiframe")
    return save_account(
        workspace=workspace,
        provider="apiframe",
        api_key=keys.api_key,
        base_url=fake.base("apiframe"),
    )


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process, so an accepted take would reach the provider at once."""
    from studio.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
