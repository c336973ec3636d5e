from __future__ import annotations

from django.conf import settings
from django.db import models


class EntryKind(models.TextChoices):
    RESERVE = "reserve", "Reserved"
    SETTLE = "settle", "Settled"
    RELEASE = "release", "Released"


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def for_workspace(self, workspace) -> LedgerEntryQuerySet:
        return self.filter(workspace=workspace)


class LedgerEntry(models.Model):
    """An append-only record of money held or spent, in integer micro-USD.

    Each take has at most one reservation (``held +estimate``) and at most one
    resolution: a settlement (``held -estimate, spent +cost``) or a release
    (``held -estimate``). The two partial unique constraints make a second reservation
    or a second resolution of the same take impossible, whatever the code does, so
    a duplicate webhook, a retried task or two racing workers cannot charge twice.

    For any set of entries: held = Σ held_delta (money reserved by unfinished takes)
    and spent = Σ spent_delta; a budget counts held + spent.
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
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

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
