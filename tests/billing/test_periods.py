"""Months and days in the configured time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from studio.billing.periods import Period


def test_a_month_runs_from_its_first_to_its_last_day_across_the_year_end():
    assert Period.month_of(date(2026, 12, 15)) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert Period.month_before(date(2027, 1, 10)) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert Period.month_of(date(2028, 2, 29)).last == date(2028, 2, 29)


def test_a_month_starts_at_midnight_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    november = Period.month_of(date(2026, 11, 20))
    assert november.start == datetime(2026, 11, 1, tzinfo=ZoneInfo("America/New_York"))
    assert november.end == datetime(2026, 12, 1, tzinfo=ZoneInfo("America/New_York"))
    assert (november.name, november.is_month, len(november.days)) == ("November", True, 30)


def test_a_range_of_days_is_named_by_its_dates():
    week = Period(date(2026, 11, 3), date(2026, 11, 9))
    assert (week.is_month, week.name) == (False, "3 Nov to 9 Nov 2026")


def test_far_future_dates_are_refused_instead_of_crashing(owner_client):
    from django.urls import reverse

    url = reverse("spend:dashboard") + "?period=custom&start=9999-01-01&end=9999-12-31"
    response = owner_client.get(url)
    assert response.status_code == 200
    assert response.context["form"].errors["start"]
