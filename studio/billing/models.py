from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EntryKind(models.TextChoices):
    RESERVE = "reserve", "Reserved"
    SETTLE = "settle", "Settled"
    RELEASE = "release", "Released"


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def for_workspace(self, workspace) -> LedgerEntryQuerySet:
        return self.filter(workspace=workspace)

    # The ORM half of "append-only" (PostgreSQL also refuses it with a trigger, see
    # migration 0003): a bulk update or delete of entries is always a bug.
    def update(self, **kwargs):
        raise TypeError("Ledger entries are append-only.")

    def delete(self):
        raise TypeError("Ledger entries are append-only.")


class LedgerEntry(models.Model):
    """An append-only record of money held or spent, in integer micro-USD.

    Each take has at most one reservation (``held +estimate``) and at most one
    resolution: a settlement (``held -estimate, spent +cost``) or a release
    (``held -estimate``). The two partial unique constraints make a second reservation
    or a second resolution of the same take impossible, whatever the code does, so
    a duplicate webhook, a retried task or two racing workers cannot charge twice.

    For any set of entries: held = Σ held_delta (money reserved by unfinished takes)
    and spent = Σ spent_delta. A month's budget counts what was spent in that month
    (by the date of the settlement) plus everything held now: money counts when it is
    charged, and a hold counts while it is open, like a card's pending payments. So a
    take ordered on the 31st and settled on the 1st is charged to the new month, and a
    release never gives a month room it did not use.

    ``created_at`` defaults to now but can be given (imports, tests): entries are never
    written twice, so the value is whatever the one insert said.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    generation = models.ForeignKey(
        "generation.Generation", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    held_delta_micros = models.BigIntegerField()
    spent_delta_micros = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=40, blank=True)  # why a release happened
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation"],
                condition=models.Q(kind="reserve"),
                name="one_reservation_per_take",
            ),
            models.UniqueConstraint(
                fields=["generation"],
                condition=models.Q(kind__in=["settle", "release"]),
                name="one_resolution_per_take",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.held_delta_micros}/{self.spent_delta_micros} µ$"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only.")


class Budget(models.Model):
    """A workspace's spending rules, and the row every paid order locks.

    One row per workspace, created on first use (``services.locked_budget``), so a
    workspace without rules costs nothing to check. Its row lock serializes the check
    "does this order fit the budget?" with the reservation that follows, for every
    member of the workspace at once: two people cannot both take the last dollar.

    * ``monthly_budget_micros``: the most the workspace may commit in a calendar month
      (in ``settings.TIME_ZONE``): settled this month plus held now. None: no budget.
    * ``approval_threshold_micros``: a take costing more than this waits for an owner.
      Checked per take: four cheap drafts are not one expensive take (the budget and
      caps still count the whole click).
    * ``editors_need_approval``: every paid order by an editor waits for an owner.

    Owners are never asked to approve their own orders (their click is the approval),
    and free Preview takes never wait.
    """

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, primary_key=True, related_name="budget"
    )
    monthly_budget_micros = models.BigIntegerField(null=True, blank=True)
    approval_threshold_micros = models.BigIntegerField(null=True, blank=True)
    editors_need_approval = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_budget_micros__gte=0)
                | models.Q(monthly_budget_micros__isnull=True),
                name="budget_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(approval_threshold_micros__gte=0)
                | models.Q(approval_threshold_micros__isnull=True),
                name="approval_threshold_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Budget of {self.workspace_id}"


class MemberCapQuerySet(models.QuerySet["MemberCap"]):
    def for_workspace(self, workspace) -> MemberCapQuerySet:
        return self.filter(workspace=workspace)


class MemberCap(models.Model):
    """The most one member may commit in a calendar month, on top of the workspace budget.

    A separate row (not a column on Membership) so billing owns its rules and a member
    without a cap has no row. ``workspace`` repeats ``membership.workspace`` for
    scoping, like every other workspace object.
    """

    membership = models.OneToOneField(
        "accounts.Membership", on_delete=models.CASCADE, primary_key=True, related_name="spend_cap"
    )
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    monthly_cap_micros = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberCapQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_cap_micros__gte=0), name="member_cap_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"Cap of {self.membership_id}"
