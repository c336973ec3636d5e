"""Reserve, settle, release: the only ways money moves.

Views and the pipeline call these; the database constraints on LedgerEntry make
"exactly one resolution per take" true even when two workers race.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from studio.billing.models import EntryKind, LedgerEntry


@dataclass(frozen=True)
class Authorization:
    needs_approval: bool = False


class SpendRefused(Exception):
    """The take would go over a budget or cap; ``field`` is the builder field to blame."""

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def authorize(membership, total_micros: int) -> Authorization:
    """Whether this member may spend this much now. Raises SpendRefused.

    Must run inside the transaction that creates the takes and their reservations.
    """
    return Authorization()


def reserve(generation) -> LedgerEntry:
    return LedgerEntry.objects.create(
        workspace_id=generation.workspace_id,
        generation=generation,
        user_id=generation.created_by_id,
        kind=EntryKind.RESERVE,
        held_delta_micros=generation.estimate_micros,
    )


def _resolve(generation, kind: EntryKind, spent: int, reason: str) -> bool:
    """Write the take's one resolution. False when it was already resolved."""
    try:
        with transaction.atomic():
            LedgerEntry.objects.create(
                workspace_id=generation.workspace_id,
                generation=generation,
                user_id=generation.created_by_id,
                kind=kind,
                held_delta_micros=-generation.estimate_micros,
                spent_delta_micros=spent,
                reason=reason,
            )
    except IntegrityError:
        return False
    return True


def settle(generation, cost_micros: int | None = None) -> bool:
    """Charge the take: the provider's reported cost when it gave one, else the estimate."""
    spent = generation.estimate_micros if cost_micros is None else cost_micros
    return _resolve(generation, EntryKind.SETTLE, spent, "")


def release(generation, reason: str) -> bool:
    """Give back the take's reservation (failure, moderation, cancel, decline)."""
    return _resolve(generation, EntryKind.RELEASE, 0, reason)
