"""The spend dashboard, the members' own view and the CSV export, on known numbers."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studio.billing import reports, services
from studio.billing.models import EntryKind, LedgerEntry
from studio.billing.periods import Period
from studio.generation.models import Clip, Generation, Status
from studio.generation.services import fail
from studio.providers import catalog, registry
from studio.providers.base import ErrorKind, ProviderError
from studio.providers.catalog import Params
from tests import factories
from tests.billing.conftest import SILENT, SOUND, limits, order

pytestmark = pytest.mark.django_db

WAVESPEED = Params(duration=10, aspect_ratio="16:9", resolution="720p", audio=False)


def clip(take, seconds: float) -> None:
    Clip.objects.create(
        generation=take,
        workspace_id=take.workspace_id,
        file="c.mp4",
        size_bytes=1,
        duration_seconds=seconds,
        width=1280,
        height=720,
        video_codec="h264",
    )


@pytest.fixture
def month(owner, editor):
    """A month of takes with known prices, in two projects, by two people.

    * editor, Launch, Apiframe with sound ($0.25): settled at the reported $0.19, 5 s
    * owner, Teaser, Apiframe silent ($0.15): settled at the estimate, 5 s
    * editor, Launch, Apiframe silent ($0.15): refused for moderation, released
    * owner, Teaser, Apiframe with sound ($0.25): still generating, held
    * owner, Teaser, WaveSpeed Kling 2.6 10 s silent: settled at the estimate, 10 s
    """
    workspace = owner.workspace
    launch = factories.shot(workspace, "Hero", factories.project(workspace, "Launch"))
    teaser = factories.shot(workspace, "Tease", factories.project(workspace, "Teaser"))
    [a] = order(editor, shot=launch, params=SOUND)
    [b] = order(owner, shot=teaser, params=SILENT)
    [c] = order(editor, shot=launch, params=SILENT)
    [d] = order(owner, shot=teaser, params=SOUND)
    [e] = factories.takes(
        owner, shot_=teaser, provider="wavespeed", model="kling-2.6", params=WAVESPEED
    )
    services.settle(a, cost_micros=190_000)
    services.settle(b)
    fail(c, ProviderError(ErrorKind.MODERATION, "flagged"))
    services.settle(e)
    for take, seconds in ((a, 5.0), (b, 5.0), (e, 10.0)):
        clip(take, seconds)
    return {"wavespeed": e.estimate_micros, "open": d}


def test_the_dashboard_figures_for_a_known_month(owner, editor, month):
    x = month["wavespeed"]
    report = reports.spend(owner.workspace, Period.month_of())
    assert (report.spent, report.settled) == (190_000 + 150_000 + x, 3)
    assert (report.released, report.releases) == (150_000, 1)
    assert (report.reserved, report.ordered) == (250_000 + 150_000 + 150_000 + 250_000 + x, 5)
    assert report.seconds == 20.0
    assert report.per_second == round((340_000 + x) / 20)

    def lines(shares):
        return [(s.label, s.spent, s.takes) for s in shares]

    assert lines(report.by_project) == sorted(
        [("Teaser", 150_000 + x, 2), ("Launch", 190_000, 1)], key=lambda r: -r[1]
    )
    assert lines(report.by_member) == sorted(
        [(owner.user.name, 150_000 + x, 2), ("Eddie Editor", 190_000, 1)], key=lambda r: -r[1]
    )
    assert sorted(lines(report.by_provider)) == [
        ("Apiframe", 340_000, 2),
        (registry.label("wavespeed"), x, 1),
    ]
    assert sorted(lines(report.by_model)) == [("Kling 2.6", x, 1), ("Kling 2.6 Pro", 340_000, 2)]
    assert sorted(lines(report.by_audio)) == [
        ("Audio off", 150_000 + x, 2),
        ("Audio on", 190_000, 1),
    ]
    assert [(r.label, r.takes, r.released) for r in report.reasons] == [
        ("Refused under the provider's content rules", 1, 150_000)
    ]
    assert report.chart.total == report.spent
    today = timezone.localdate()
    assert [(b.spent, b.takes) for b in report.chart.bars if b.day == today] == [(report.spent, 3)]


def test_this_month_counts_settled_spend_plus_what_is_held(owner, month):
    limits(owner.workspace, budget="5.00")
    workspace_now, _ = reports.workspace_standing(owner)
    assert workspace_now.held == 250_000
    assert workspace_now.spent == 340_000 + month["wavespeed"]
    assert workspace_now.left == 5_000_000 - workspace_now.committed


def test_the_dashboard_page_shows_the_figures_a_chart_and_the_releases(owner_client, owner, month):
    limits(owner.workspace, budget="5.00")
    page = owner_client.get(reverse("spend:dashboard")).content.decode()
    spent = catalog.format_usd(340_000 + month["wavespeed"])
    assert "of its $5.00 budget for" in page
    assert f"<dd>{spent}</dd>" in page
    assert 'role="img"' in page and '<title id="per-day-title">Spend per day' in page
    assert f"{spent} in all." in page, "the chart's description says the numbers"
    assert 'class="chart-value"' in page, "values are written on the bars"
    assert "Refused under the provider&#x27;s content rules" in page
    assert catalog.format_usd(round((340_000 + month["wavespeed"]) / 20)) in page


def test_a_member_sees_only_their_own_spend_and_what_is_left_of_their_cap(
    client, owner, editor, month
):
    limits(owner.workspace, caps={editor: "2.00"})
    client.force_login(editor.user)
    response = client.get(reverse("spend:dashboard"))
    page = response.content.decode()
    assert "Your spend" in page
    assert "of your $2.00 limit for" in page and "$1.81 left" in page
    assert "<dd>$0.19</dd>" in page
    assert "Teaser" not in page and "By member" not in page
    report = reports.spend(owner.workspace, Period.month_of(), user=editor.user)
    assert (report.spent, report.released) == (190_000, 150_000)


def test_last_month_and_custom_dates_choose_the_period(owner_client, month):
    last = owner_client.get(reverse("spend:dashboard"), {"period": "last"}).content.decode()
    assert "Nothing settled in this period." in last
    today = timezone.localdate()
    custom = owner_client.get(
        reverse("spend:dashboard"),
        {"period": "custom", "start": f"{today:%Y-%m-%d}", "end": f"{today:%Y-%m-%d}"},
    ).content.decode()
    assert "Eddie Editor" in custom
    wrong = owner_client.get(
        reverse("spend:dashboard"),
        {
            "period": "custom",
            "start": f"{today:%Y-%m-%d}",
            "end": f"{today - timedelta(1):%Y-%m-%d}",
        },
    ).content.decode()
    assert "The end date comes before the start date." in wrong


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_export_lists_every_entry_with_exact_amounts(owner_client, owner, editor, month):
    response = owner_client.get(reverse("spend:export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="studio-ledger-')
    rows = read_csv(response)
    assert rows[0] == list(reports.CSV_HEADER)
    assert len(rows) == 1 + 5 + 4  # five reservations, three settlements, one release
    settled = [r for r in rows if r[8] == "settle" and r[4] == "Eddie Editor"]
    assert settled == [
        [
            settled[0][0],
            settled[0][1],
            "Launch",
            "Hero",
            "Eddie Editor",
            "apiframe",
            "kling-2.6-pro",
            "on",
            "settle",
            "-0.250000",
            "-250000",
            "0.190000",
            "190000",
            "",
        ]
    ]
    [released] = [r for r in rows if r[8] == "release"]
    assert released[9:] == [
        "-0.150000",
        "-150000",
        "0.000000",
        "0",
        "Refused under the provider's content rules",
    ]
    assert sum(int(r[12]) for r in rows[1:]) == 340_000 + month["wavespeed"]


def test_the_csv_export_streams_row_by_row(owner_client, owner):
    order(owner, count=3)
    response = owner_client.get(reverse("spend:export"))
    assert response.streaming
    chunks = iter(response.streaming_content)
    assert next(chunks).decode().startswith("date,take id,project,")
    assert next(chunks).decode().count("\n") == 1, "one entry per chunk"
    assert len(list(chunks)) == 2


def test_names_that_look_like_formulas_are_defused_in_the_csv(owner_client, owner):
    shot = factories.shot(
        owner.workspace, "=HYPERLINK(1)", factories.project(owner.workspace, "+1")
    )
    order(owner, shot=shot)
    [_, row] = read_csv(owner_client.get(reverse("spend:export")))
    assert (row[2], row[3]) == ("'+1", "'=HYPERLINK(1)")


def test_only_owners_see_the_workspace_dashboard_export_and_approvals(client, editor, reviewer):
    for member in (editor, reviewer):
        client.force_login(member.user)
        assert client.get(reverse("spend:export")).status_code == 403
        assert client.get(reverse("spend:approvals")).status_code == 403
        assert "Your spend" in client.get(reverse("spend:dashboard")).content.decode()
    client.logout()
    for name in ("spend:dashboard", "spend:export", "spend:approvals", "budget:index"):
        assert client.get(reverse(name)).status_code == 302


def bulk_month(owner, takes: int) -> None:
    """``takes`` takes with a reservation and a resolution each, spread over this month."""
    workspace = owner.workspace
    shot = factories.shot(workspace)
    start = Period.month_of().start
    span = (timezone.now() - start).total_seconds()
    rows = [
        Generation(
            workspace=workspace,
            shot=shot,
            created_by=owner.user,
            request_key=uuid.uuid4(),
            number=n + 1,
            provider=("apiframe", "fal", "kie")[n % 3],
            model=("kling-2.6-pro", "kling-3.0")[n % 2],
            compiled_prompt="x",
            params={"duration": 5, "audio": n % 2 == 0},
            estimate_micros=150_000,
            status=Status.SUCCEEDED if n % 4 else Status.FAILED,
        )
        for n in range(takes)
    ]
    Generation.objects.bulk_create(rows, batch_size=5000)
    entries = []
    for n, take in enumerate(rows):
        when = start + timedelta(seconds=span * n / takes)
        common = {"workspace": workspace, "generation": take, "user": owner.user}
        entries.append(
            LedgerEntry(
                **common, kind=EntryKind.RESERVE, held_delta_micros=150_000, created_at=when
            )
        )
        resolution = (
            {"kind": EntryKind.SETTLE, "spent_delta_micros": 140_000}
            if n % 4
            else {"kind": EntryKind.RELEASE, "reason": ("moderation", "declined")[n % 8 // 4]}
        )
        entries.append(
            LedgerEntry(**common, **resolution, held_delta_micros=-150_000, created_at=when)
        )
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("spend:dashboard")).status_code == 200
    return len(queries)


def test_the_dashboard_costs_the_same_queries_for_ten_or_a_hundred_thousand_entries(
    owner_client, owner, django_assert_max_num_queries
):
    bulk_month(owner, 5)
    few = dashboard_queries(owner_client)
    bulk_month(owner, 50_000)
    assert LedgerEntry.objects.count() == 100_010
    with django_assert_max_num_queries(few):
        response = owner_client.get(reverse("spend:dashboard"))
    assert few <= 20
    report = reports.spend(owner.workspace, Period.month_of())
    assert report.settled == 37_503
    assert report.spent == 37_503 * 140_000
    assert f"<dd>{catalog.format_usd(report.spent)}</dd>" in response.content.decode()


def test_the_export_covers_only_the_chosen_dates(owner_client, owner):
    [take] = order(owner)
    before = Period.month_before()
    LedgerEntry.objects.create(
        workspace=owner.workspace,
        generation=take,
        user=owner.user,
        kind=EntryKind.SETTLE,
        held_delta_micros=-take.estimate_micros,
        spent_delta_micros=take.estimate_micros,
        created_at=before.end - timedelta(seconds=1),
    )
    page = owner_client.get(reverse("spend:dashboard"), {"period": "last"}).content.decode()
    link = f"?period=custom&amp;start={before.first:%Y-%m-%d}&amp;end={before.last:%Y-%m-%d}"
    assert link in page
    rows = read_csv(
        owner_client.get(
            reverse("spend:export"),
            {
                "period": "custom",
                "start": f"{before.first:%Y-%m-%d}",
                "end": f"{before.last:%Y-%m-%d}",
            },
        )
    )
    assert [r[8] for r in rows[1:]] == ["settle"], "this month's reservation is left out"
