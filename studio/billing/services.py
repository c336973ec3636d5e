"""Reserve, settle, release: the only ways money moves; and the budget check before them.

Views and the pipeline call these; the database constraints on LedgerEntry make
"exactly one resolution per take" true even when two workers race, and the Budget row
lock makes "never over the budget" true even when twenty people click at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from studio.accounts.roles import Action, Role
from studio.billing.models import Budget, EntryKind, LedgerEntry, MemberCap
from studio.billing.periods import Period
from studio.providers.catalog import format_usd


@dataclass(frozen=True)
class Authorization:
    needs_approval: bool = False


class SpendRefused(Exception):
    """The take would go over a budget or cap; ``field`` is the builder field to blame."""

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Commitment:
    """Money held now (open reservations) and spent in the month (settlements)."""

    held: int
    spent: int

    @property
    def total(self) -> int:
        return self.held + self.spent


def commitments(workspace_id, user_id, month: Period) -> tuple[Commitment, Commitment]:
    """The workspace's and one member's commitments, in one aggregate query."""
    in_month = Q(created_at__gte=month.start, created_at__lt=month.end)
    mine = Q(user_id=user_id)
    sums = LedgerEntry.objects.filter(workspace_id=workspace_id).aggregate(
        held=Sum("held_delta_micros", default=0),
        spent=Sum("spent_delta_micros", filter=in_month, default=0),
        my_held=Sum("held_delta_micros", filter=mine, default=0),
        my_spent=Sum("spent_delta_micros", filter=in_month & mine, default=0),
    )
    return (
        Commitment(held=sums["held"], spent=sums["spent"]),
        Commitment(held=sums["my_held"], spent=sums["my_spent"]),
    )


def member_cap(membership) -> int | None:
    """The member's monthly cap in micro-USD, or None when they have none."""
    caps = MemberCap.objects.filter(membership=membership)
    return caps.values_list("monthly_cap_micros", flat=True).first()


@dataclass(frozen=True)
class Verdict:
    """What an order of a given price would meet: a refusal, an approval gate, or room.

    ``left_micros`` is what remains under the tighter of the budget and the member's
    cap after this order (None when neither is set); ``left_of`` says which limit.
    """

    refusal: str = ""
    needs_approval: bool = False
    approval_reason: str = ""
    left_micros: int | None = None
    left_of: str = ""


def judge(membership, budget: Budget | None, take_micros: int, count: int = 1) -> Verdict:
    """Decide an order of ``count`` takes of ``take_micros`` each by ``membership``
    against this month's limits. Budgets and caps count the whole order; the approval
    threshold is about one take's price (four cheap drafts are not one expensive take)."""
    total_micros = take_micros * count
    month = Period.month_of()
    workspace, member = commitments(membership.workspace_id, membership.user_id, month)
    limit = budget.monthly_budget_micros if budget else None
    cap = member_cap(membership)
    owner = membership.can(Action.MANAGE_BUDGET)
    if limit is not None and workspace.total + total_micros > limit:
        fix = "You can raise it under Team, Budget." if owner else "An owner can raise the budget."
        after = format_usd(workspace.total + total_micros)
        return Verdict(
            refusal=f"This would take the workspace to {after} of its {format_usd(limit)} "
            f"budget for {month.name}. {fix}"
        )
    if cap is not None and member.total + total_micros > cap:
        after = format_usd(member.total + total_micros)
        return Verdict(
            refusal=f"This would take you to {after} of your {format_usd(cap)} limit for "
            f"{month.name}. An owner can raise your limit."
        )
    rooms = []
    if limit is not None:
        rooms.append(
            (limit - workspace.total - total_micros, f"the workspace's {month.name} budget")
        )
    if cap is not None:
        rooms.append((cap - member.total - total_micros, f"your {month.name} limit"))
    left, left_of = min(rooms) if rooms else (None, "")
    reason = "" if owner or budget is None else _approval_reason(membership, budget, take_micros)
    return Verdict(
        needs_approval=bool(reason), approval_reason=reason, left_micros=left, left_of=left_of
    )


def _approval_reason(membership, budget: Budget, take_micros: int) -> str:
    threshold = budget.approval_threshold_micros
    if threshold is not None and take_micros > threshold:
        return f"takes over {format_usd(threshold)} wait for an owner."
    if budget.editors_need_approval and membership.role == Role.EDITOR:
        return "in this workspace, every paid order by an editor waits for an owner."
    return ""


def locked_budget(workspace_id) -> Budget:
    """The workspace's Budget row, locked until the transaction ends; created if missing.

    The lock is what makes check-then-reserve safe: every paid order of the workspace
    waits here for the one before it to commit its reservation.
    """
    rows = Budget.objects.filter(workspace_id=workspace_id)
    if settings.STUDIO_BILLING_LOCKS:
        rows = rows.select_for_update()
    try:
        return rows.get()
    except Budget.DoesNotExist:
        # Two first orders may race to create it: the second insert waits for the first
        # to commit, then does nothing, and both lock the same row.
        Budget.objects.bulk_create([Budget(workspace_id=workspace_id)], ignore_conflicts=True)
        return rows.get()


def authorize(membership, take_micros: int, count: int = 1) -> Authorization:
    """Whether this member may order ``count`` takes of ``take_micros`` each now.
    Raises SpendRefused.

    Must run inside the transaction that creates the takes and their reservations, so
    the budget lock covers both the check and the reservation.
    """
    if take_micros <= 0:
        return Authorization()  # Preview drafts are free: no budget, no approval
    verdict = judge(membership, locked_budget(membership.workspace_id), take_micros, count)
    if verdict.refusal:
        raise SpendRefused(verdict.refusal)
    return Authorization(needs_approval=verdict.needs_approval)


def preview_spend(membership, take_micros: int, count: int = 1) -> Verdict | None:
    """What pressing Generate would meet, for the builder to say before the click;
    None when there is nothing to say (free, no limits, or not allowed to generate).

    Reads without locking: the real check happens again in :func:`authorize`.
    """
    if take_micros <= 0 or not membership.can(Action.GENERATE):
        return None
    budget = Budget.objects.filter(workspace_id=membership.workspace_id).first()
    verdict = judge(membership, budget, take_micros, count)
    if verdict.refusal or verdict.needs_approval or verdict.left_micros is not None:
        return verdict
    return None


@transaction.atomic
def set_limits(
    workspace,
    *,
    monthly_budget_micros: int | None,
    approval_threshold_micros: int | None,
    editors_need_approval: bool,
    caps: dict[int, int | None],
) -> Budget:
    """Save an owner's spending rules; ``caps`` maps membership id to a cap (None: none).

    Takes the same lock as orders, so a new budget applies from the next order on.
    """
    budget = locked_budget(workspace.pk)
    budget.monthly_budget_micros = monthly_budget_micros
    budget.approval_threshold_micros = approval_threshold_micros
    budget.editors_need_approval = editors_need_approval
    budget.save()
    for membership_id, cap in caps.items():
        if cap is None:
            MemberCap.objects.filter(membership_id=membership_id).delete()
        else:
            MemberCap.objects.update_or_create(
                membership_id=membership_id,
                defaults={"workspace_id": workspace.pk, "monthly_cap_micros": cap},
            )
    return budget


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
    """Charge the take: the provider's reported cost when it gave one, else the estimate.

    Over-run policy: a reported cost above the estimate is charged as reported, because
    the ledger records what the provider billed. The budget was checked against the
    estimate, so an over-run can take a month past its budget; the dashboard says so.
    """
    spent = generation.estimate_micros if cost_micros is None else cost_micros
    return _resolve(generation, EntryKind.SETTLE, spent, "")


def release(generation, reason: str) -> bool:
    """Give back the take's reservation (failure, moderation, cancel, decline)."""
    return _resolve(generation, EntryKind.RELEASE, 0, reason)
