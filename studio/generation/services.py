"""Workflows on takes that people start: order, approve, decline, cancel, fail.

Status only changes through :func:`transition`, a compare-and-set on the old status,
so two workers, a webhook and the poller can race on the same take and exactly one
of them wins each step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from studio.billing import services as billing
from studio.generation.models import TRANSITIONS, Generation, ProviderAccount, Status
from studio.media.models import Image
from studio.projects.models import Shot
from studio.prompts.compile import compile_prompt
from studio.prompts.fields import PromptFields
from studio.providers.base import ErrorKind, ProviderError
from studio.providers.catalog import Offer, Params

NOT_TERMINAL = (Status.QUEUED, Status.SUBMITTING, Status.RUNNING, Status.DOWNLOADING)


def transition(generation_id, old: Status | Iterable[Status], new: Status, **changes) -> bool:
    """Move a take from ``old`` to ``new`` if it is still in ``old``. True if this call won."""
    olds = {old} if isinstance(old, str) else set(old)
    illegal = [o for o in olds if new not in TRANSITIONS[Status(o)]]
    if illegal:
        raise ValueError(f"{illegal} -> {new} is not a take transition")
    now = timezone.now()
    if new in Status.terminal():
        changes.setdefault("finished_at", now)
        changes.setdefault("lease_until", None)
        changes.setdefault("next_poll_at", None)
    updated = Generation.objects.filter(pk=generation_id, status__in=olds).update(
        status=new, updated_at=now, **changes
    )
    return updated == 1


def _enqueue(generation: Generation) -> None:
    from studio.generation.tasks import advance_take

    advance_take.delay_on_commit(str(generation.pk))


@dataclass(frozen=True)
class TakeOrder:
    shot: Shot
    membership: object  # studio.accounts.models.Membership
    offer: Offer
    account: ProviderAccount | None
    fields: PromptFields
    params: Params
    count: int
    request_key: uuid.UUID
    start_image: Image | None = None
    end_image: Image | None = None


def order_takes(order: TakeOrder) -> list[Generation]:
    """Create the takes of one Generate click, reserve their price and queue them.

    Idempotent on ``request_key``: a double click or a retried POST returns the takes
    the first one created. Raises billing.SpendRefused before anything is stored.
    """
    params = order.params
    price = order.offer.price(params.duration, params.resolution, params.audio)
    now = timezone.now()
    with transaction.atomic():
        # The shot's row lock serializes concurrent orders on one shot, so take numbers
        # and the request_key check are race-free.
        shot = Shot.objects.select_for_update().get(pk=order.shot.pk)
        existing = list(
            Generation.objects.filter(
                workspace_id=shot.workspace_id, request_key=order.request_key
            ).order_by("take_index")
        )
        if existing:
            return existing
        decision = billing.authorize(order.membership, price.usd_micros, order.count)
        status = Status.AWAITING_APPROVAL if decision.needs_approval else Status.QUEUED
        last = shot.takes.aggregate(n=Max("number"))["n"] or 0
        takes = []
        for index in range(order.count):
            take = Generation.objects.create(
                workspace_id=shot.workspace_id,
                shot=shot,
                created_by=order.membership.user,
                request_key=order.request_key,
                take_index=index,
                number=last + index + 1,
                provider=order.offer.provider,
                provider_account=order.account,
                model=order.offer.family,
                prompt=order.fields.to_dict(),
                compiled_prompt=compile_prompt(order.fields),
                params=params.to_dict(),
                start_image=order.start_image,
                end_image=order.end_image,
                estimate_micros=price.usd_micros,
                status=status,
                deadline_at=None if decision.needs_approval else _deadline(now),
            )
            billing.reserve(take)
            takes.append(take)
            if status == Status.QUEUED:
                _enqueue(take)
        shot.draft = {
            "fields": order.fields.to_dict(),
            "provider": order.offer.provider,
            "model": order.offer.family,
            "params": params.to_dict(),
        }
        shot.save(update_fields=["draft", "updated_at"])
    return takes


def _deadline(start):
    return start + timedelta(minutes=settings.STUDIO_TAKE_DEADLINE_MINUTES)


def approve(take: Generation) -> bool:
    """An owner lets a take that waited for approval go to the provider."""
    with transaction.atomic():
        if not transition(
            take.pk, Status.AWAITING_APPROVAL, Status.QUEUED, deadline_at=_deadline(timezone.now())
        ):
            return False
        _enqueue(take)
    return True


def decline(take: Generation) -> bool:
    """An owner refuses a waiting take; its reservation is released."""
    return _stop(take, Status.AWAITING_APPROVAL, "Declined by an owner.", "declined")


def cancel(take: Generation) -> bool:
    """Withdraw a take that has not been sent to the provider yet."""
    return _stop(
        take, (Status.AWAITING_APPROVAL, Status.QUEUED), "Canceled before sending.", "canceled"
    )


def _stop(take: Generation, old, reason: str, release_reason: str) -> bool:
    with transaction.atomic():
        if not transition(take.pk, old, Status.CANCELED, failure_reason=reason):
            return False
        billing.release(take, release_reason)
    return True


def fail(
    take: Generation,
    error: ProviderError,
    *,
    reason: str = "",
    old: Iterable[Status] = NOT_TERMINAL,
) -> bool:
    """End a take as failed, in plain words, and release its credits. False if it had
    already ended (a late duplicate cannot fail a take that succeeded)."""
    with transaction.atomic():
        if not transition(
            take.pk,
            old,
            Status.FAILED,
            failure_reason=(reason or error.plain)[:300],
            failure_kind=error.kind.value,
            failure_detail=error.detail[:2000],
        ):
            return False
        billing.release(take, error.kind.value)
    return True


def give_up(take: Generation, kind: ErrorKind, reason: str = "", detail: str = "") -> bool:
    return fail(take, ProviderError(kind, detail), reason=reason)
