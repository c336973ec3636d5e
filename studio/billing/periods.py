"""Whole days and calendar months in ``settings.TIME_ZONE``: budgets reset and
dashboards group by these, so a workspace's "November" is the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateformat import format as date_format


@dataclass(frozen=True)
class Period:
    """Whole days from ``first`` to ``last`` (inclusive)."""

    first: date
    last: date

    @classmethod
    def month_of(cls, day: date | None = None) -> Period:
        day = day or timezone.localdate(timezone=timezone.get_default_timezone())
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(day.replace(day=1), following - timedelta(days=1))

    @classmethod
    def month_before(cls, day: date | None = None) -> Period:
        return cls.month_of(cls.month_of(day).first - timedelta(days=1))

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return _midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def is_month(self) -> bool:
        return self == Period.month_of(self.first)

    @property
    def name(self) -> str:
        """'November' for a month, else '3 Nov to 9 Nov 2026'."""
        if self.is_month:
            return date_format(self.first, "F")
        return f"{date_format(self.first, 'j M')} to {date_format(self.last, 'j M Y')}"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
