"""Spend forms: amounts are typed in dollars (Decimal, never float) and kept in micro-USD."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django import forms

from studio.accounts.roles import Action
from studio.billing.periods import Period
from studio.providers.catalog import MICROS_PER_USD

MAX_DAYS = 366
EARLIEST = date(2020, 1, 1)  # before any Kling model; also keeps date maths in range


def to_micros(dollars: Decimal | None) -> int | None:
    return None if dollars is None else int(dollars * MICROS_PER_USD)


def to_dollars(micros: int | None) -> Decimal | None:
    if micros is None:
        return None
    return (Decimal(micros) / MICROS_PER_USD).quantize(Decimal("0.01"))


class DollarField(forms.DecimalField):
    """Dollars and cents, at least zero; empty means "no limit"."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal(0), **kwargs)
        self.widget.attrs.update(step="0.01", inputmode="decimal", placeholder="No limit")


class LimitsForm(forms.Form):
    """The workspace budget, the approval rules and one cap per member who can generate."""

    monthly_budget = DollarField(
        label="Monthly budget (USD)",
        help_text="The most the workspace may spend in a calendar month, counting takes still "
        "in progress. Orders that would go over it are refused. Empty: no budget.",
    )
    approval_threshold = DollarField(
        label="Ask an owner to approve takes over (USD)",
        help_text="A take that costs more than this waits until an owner approves it. Empty: "
        "no approval by price.",
    )
    editors_need_approval = forms.BooleanField(
        label="Every paid order by an editor needs an owner's approval", required=False
    )

    def __init__(self, *args, budget, memberships, caps: dict, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "monthly_budget": to_dollars(budget.monthly_budget_micros),
                "approval_threshold": to_dollars(budget.approval_threshold_micros),
                "editors_need_approval": budget.editors_need_approval,
            },
        )
        super().__init__(*args, **kwargs)
        self.members = [m for m in memberships if m.can(Action.GENERATE)]
        for member in self.members:
            name = self.cap_name(member)
            self.fields[name] = DollarField(label=f"Monthly limit for {member.user}")
            self.initial.setdefault(name, to_dollars(caps.get(member.pk)))

    @staticmethod
    def cap_name(membership) -> str:
        return f"cap_{membership.pk}"

    def cap_fields(self) -> list[tuple[object, forms.BoundField]]:
        return [(m, self[self.cap_name(m)]) for m in self.members]

    def caps(self) -> dict[int, int | None]:
        return {m.pk: to_micros(self.cleaned_data[self.cap_name(m)]) for m in self.members}


class PeriodForm(forms.Form):
    """This month, last month, or a range of dates (for the dashboard and the export)."""

    period = forms.ChoiceField(
        label="Period",
        required=False,
        choices=[("this", "This month"), ("last", "Last month"), ("custom", "Dates")],
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period") != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            raise forms.ValidationError("Choose both dates.")
        if end < start:
            self.add_error("end", "The end date comes before the start date.")
        elif not (start >= EARLIEST and end <= date.today() + timedelta(days=366)):
            self.add_error("start", "Choose dates between 2020 and next year.")
        elif end - start > timedelta(days=MAX_DAYS - 1):
            self.add_error("end", f"Choose at most {MAX_DAYS} days.")
        return data

    def chosen(self) -> Period:
        """The chosen period; this month when nothing (valid) was chosen."""
        if not self.is_bound or not self.is_valid():
            return Period.month_of()
        data = self.cleaned_data
        if data["period"] == "last":
            return Period.month_before()
        if data["period"] == "custom":
            return Period(data["start"], data["end"])
        return Period.month_of()
