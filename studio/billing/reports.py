"""What the spend pages show, computed in the database.

Every figure is an aggregate (Sum, Count, grouped by day or by one dimension), so a
page costs the same handful of queries with ten entries or a million. Periods are
whole days in ``settings.TIME_ZONE``; an entry counts on the day it was written (a
settlement on the day the clip was saved, a release on the day the take ended).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate
from django.utils import timezone

from studio.billing import services
from studio.billing.models import Budget, EntryKind, LedgerEntry
from studio.billing.periods import Period
from studio.generation.models import Generation, Status
from studio.providers import catalog, registry
from studio.providers.base import ErrorKind

# Why reservations were given back, in the words the dashboard uses.
RELEASE_REASONS: dict[str, str] = {
    ErrorKind.MODERATION: "Refused under the provider's content rules",
    ErrorKind.PERMANENT: "The provider could not make it",
    ErrorKind.TRANSIENT: "The provider was unavailable",
    ErrorKind.RATE_LIMITED: "The provider was too busy",
    ErrorKind.OUT_OF_CREDIT: "The provider account was out of credit",
    ErrorKind.AUTH: "The provider did not accept the key",
    ErrorKind.AMBIGUOUS: "Sending could not be confirmed",
    ErrorKind.TIMEOUT: "The provider took too long",
    "declined": "Declined by an owner",
    "canceled": "Canceled before sending",
}


def reason_label(code: str) -> str:
    return RELEASE_REASONS.get(code, code.replace("_", " ").capitalize() or "Other")


@dataclass(frozen=True)
class Share:
    """One line of a breakdown: a label, its spend, its takes and its part of the total."""

    label: str
    spent: int
    takes: int
    percent: float  # of the largest line, for the bar


def _shares(rows: list[tuple[str, int, int]]) -> list[Share]:
    rows = sorted(rows, key=lambda r: (-r[1], r[0]))
    top = max((r[1] for r in rows), default=0)
    return [
        Share(label, spent, takes, round(100 * spent / top, 1) if top > 0 else 0.0)
        for label, spent, takes in rows
    ]


@dataclass(frozen=True)
class Bar:
    day: date
    spent: int
    takes: int
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayChart:
    """Spend per day as bar geometry for a server-drawn SVG (see billing/_day_chart.html)."""

    bars: list[Bar]
    ticks: list[Tick]
    width: int = 960
    height: int = 260
    left: int = 64
    bottom: int = 224  # y of the axis; day labels go below it
    top: int = 52  # room above the tallest bar for its value
    label_every: int = 1  # label every n-th day on the axis

    @property
    def total(self) -> int:
        return sum(b.spent for b in self.bars)

    @property
    def values_on_bars(self) -> bool:
        """Values fit above the bars up to about six weeks; beyond, read the table."""
        return len(self.bars) <= 42


def day_chart(period: Period, per_day: dict[date, tuple[int, int]]) -> DayChart:
    chart = DayChart(bars=[], ticks=[])
    days = period.days
    scale = _nice_ceiling(max((v[0] for v in per_day.values()), default=0))
    plot_width = chart.width - chart.left - 8
    slot = plot_width / len(days)
    plot_height = chart.bottom - chart.top
    bars = []
    for n, day in enumerate(days):
        spent, takes = per_day.get(day, (0, 0))
        height = plot_height * spent / scale if scale else 0
        bars.append(
            Bar(
                day=day,
                spent=spent,
                takes=takes,
                x=round(chart.left + n * slot + slot * 0.15, 2),
                y=round(chart.bottom - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
            )
        )
    ticks = [
        Tick(y=round(chart.bottom - plot_height * part, 2), label=catalog.format_usd(value))
        for part, value in ((0, 0), (0.5, scale // 2), (1, scale))
        if scale or part == 0
    ]
    return DayChart(bars=bars, ticks=ticks, label_every=max(1, -(-len(days) // 31)))


def _nice_ceiling(micros: int) -> int:
    """The smallest 1, 2 or 5 times 10^n dollars (or cents) at or above ``micros``."""
    if micros <= 0:
        return 0
    step = 10_000  # one cent
    while True:
        for factor in (1, 2, 5):
            if step * factor >= micros:
                return step * factor
        step *= 10


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    takes: int
    released: int


@dataclass
class Spend:
    """The figures of one period for a workspace (or one member of it)."""

    period: Period
    spent: int = 0
    settled: int = 0
    released: int = 0
    releases: int = 0
    reserved: int = 0
    ordered: int = 0
    seconds: float = 0.0
    chart: DayChart | None = None
    by_project: list[Share] = field(default_factory=list)
    by_member: list[Share] = field(default_factory=list)
    by_provider: list[Share] = field(default_factory=list)
    by_model: list[Share] = field(default_factory=list)
    by_audio: list[Share] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def per_second(self) -> int | None:
        """Average settled spend per second of saved video, in micro-USD."""
        return round(self.spent / self.seconds) if self.seconds else None


@dataclass(frozen=True)
class Standing:
    """This month against the limits: settled this month plus held now."""

    month: Period
    held: int
    spent: int
    limit: int | None

    @property
    def committed(self) -> int:
        return self.held + self.spent

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.committed)

    @property
    def over(self) -> int:
        """How far past the limit (a provider's over-run, or a limit lowered later)."""
        return 0 if self.limit is None else max(0, self.committed - self.limit)

    @property
    def percent(self) -> float:
        if not self.limit:
            return 100.0 if self.committed else 0.0
        return min(100.0, round(100 * self.committed / self.limit, 1))


def workspace_standing(membership) -> tuple[Standing, Standing]:
    """The workspace against its budget and the member against their cap, this month."""
    month = Period.month_of()
    workspace, member = services.commitments(membership.workspace_id, membership.user_id, month)
    budget = Budget.objects.filter(workspace_id=membership.workspace_id).first()
    return (
        Standing(month, workspace.held, workspace.spent, budget and budget.monthly_budget_micros),
        Standing(month, member.held, member.spent, services.member_cap(membership)),
    )


def committed_by_member(workspace) -> dict[int, int]:
    """Each member's commitment this month (held now + settled this month), by user id."""
    month = Period.month_of()
    in_month = Q(created_at__gte=month.start, created_at__lt=month.end)
    rows = (
        LedgerEntry.objects.for_workspace(workspace)
        .values("user_id")
        .annotate(
            held=Sum("held_delta_micros", default=0),
            spent=Sum("spent_delta_micros", filter=in_month, default=0),
        )
        .order_by()
    )
    return {r["user_id"]: r["held"] + r["spent"] for r in rows}


def spend(workspace, period: Period, *, user=None) -> Spend:
    """A period's figures for the workspace, or only ``user``'s entries when given."""
    entries = _entries(workspace, period)
    if user is not None:
        entries = entries.filter(user=user)
    settled = entries.filter(kind=EntryKind.SETTLE)
    release = Q(kind=EntryKind.RELEASE)
    reserve = Q(kind=EntryKind.RESERVE)
    totals = entries.aggregate(
        spent=Sum("spent_delta_micros", default=0),
        settled=Count("id", filter=Q(kind=EntryKind.SETTLE)),
        released=Sum("held_delta_micros", filter=release, default=0),
        releases=Count("id", filter=release),
        reserved=Sum("held_delta_micros", filter=reserve, default=0),
        ordered=Count("id", filter=reserve),
        seconds=Sum(
            "generation__clip__duration_seconds", filter=Q(kind=EntryKind.SETTLE), default=0.0
        ),
    )
    report = Spend(
        period=period,
        spent=totals["spent"],
        settled=totals["settled"],
        released=-totals["released"],
        releases=totals["releases"],
        reserved=totals["reserved"],
        ordered=totals["ordered"],
        seconds=totals["seconds"],
    )
    tz = timezone.get_default_timezone()
    per_day = (
        settled.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(spent=Sum("spent_delta_micros"), takes=Count("id"))
        .order_by("day")
    )
    report.chart = day_chart(period, {r["day"]: (r["spent"], r["takes"]) for r in per_day})
    report.by_project = _shares(
        [
            (r["generation__shot__project__name"], r["spent"], r["takes"])
            for r in _grouped(
                settled, "generation__shot__project_id", "generation__shot__project__name"
            )
        ]
    )
    if user is None:
        report.by_member = _shares(
            [
                (r["user__name"] or r["user__email"] or "Former member", r["spent"], r["takes"])
                for r in _grouped(settled, "user_id", "user__name", "user__email")
            ]
        )
    _by_route(report, settled)
    report.reasons = [
        Reason(r["reason"], reason_label(r["reason"]), r["takes"], -r["released"])
        for r in entries.filter(release)
        .values("reason")
        .annotate(takes=Count("id"), released=Sum("held_delta_micros"))
        .order_by("-takes", "reason")
    ]
    return report


def _entries(workspace, period: Period) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.for_workspace(workspace).filter(
        created_at__gte=period.start, created_at__lt=period.end
    )


def _grouped(entries: QuerySet[LedgerEntry], *keys: str):
    return (
        entries.values(*keys)
        .annotate(spent=Sum("spent_delta_micros"), takes=Count("id"))
        .order_by(*keys)
    )


def _by_route(report: Spend, settled: QuerySet[LedgerEntry]) -> None:
    """Provider, model and audio breakdowns from one grouped query (few combinations)."""
    providers: dict[str, list[int]] = {}
    models: dict[str, list[int]] = {}
    audio: dict[str, list[int]] = {}
    rows = (
        settled.annotate(audio=KeyTextTransform("audio", "generation__params"))
        .values("generation__provider", "generation__model", "audio")
        .annotate(spent=Sum("spent_delta_micros"), takes=Count("id"))
        .order_by()
    )
    for row in rows:
        sound = "Audio on" if str(row["audio"]).lower() in ("true", "1") else "Audio off"
        for bucket, key in (
            (providers, registry.label(row["generation__provider"])),
            (models, _model_label(row["generation__model"])),
            (audio, sound),
        ):
            line = bucket.setdefault(key, [0, 0])
            line[0] += row["spent"]
            line[1] += row["takes"]
    report.by_provider = _shares([(k, v[0], v[1]) for k, v in providers.items()])
    report.by_model = _shares([(k, v[0], v[1]) for k, v in models.items()])
    report.by_audio = _shares([(k, v[0], v[1]) for k, v in audio.items()])


def _model_label(key: str) -> str:
    family = catalog.FAMILIES.get(key)
    return family.label if family else key


def awaiting_approval(workspace_id) -> QuerySet[Generation]:
    """Takes that wait for an owner, oldest first, with what their rows show."""
    return (
        Generation.objects.filter(workspace_id=workspace_id, status=Status.AWAITING_APPROVAL)
        .select_related("shot__project", "created_by")
        .order_by("created_at")
    )


def recent_takes(workspace, *, user, limit: int = 20) -> QuerySet[Generation]:
    """A member's latest paid takes with what each was charged, for their own page."""
    return (
        Generation.objects.for_workspace(workspace)
        .filter(created_by=user, estimate_micros__gt=0)
        .select_related("shot__project")
        .annotate(charged=Sum("ledger_entries__spent_delta_micros", default=0))
        .order_by("-created_at")[:limit]
    )


# --- CSV export --------------------------------------------------------------------------

CSV_HEADER = (
    "date",
    "take id",
    "project",
    "shot",
    "member",
    "provider",
    "model",
    "audio",
    "kind",
    "held (USD)",
    "held (micro-USD)",
    "spent (USD)",
    "spent (micro-USD)",
    "reason",
)


def dollars(micros: int) -> str:
    """Exact dollars with six decimals, from integers only: -1500000 -> '-1.500000'."""
    sign = "-" if micros < 0 else ""
    whole, part = divmod(abs(micros), 1_000_000)
    return f"{sign}{whole}.{part:06d}"


def _cell(text: str) -> str:
    """Names are typed by users: keep a spreadsheet from reading one as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def ledger_rows(workspace, period: Period) -> Iterator[tuple]:
    """The period's entries as CSV rows, oldest first, read from the database in chunks."""
    tz = timezone.get_default_timezone()
    rows = (
        _entries(workspace, period)
        .order_by("created_at", "id")
        .values_list(
            "created_at",
            "generation_id",
            "generation__shot__project__name",
            "generation__shot__name",
            "user__name",
            "user__email",
            "generation__provider",
            "generation__model",
            "generation__params",
            "kind",
            "held_delta_micros",
            "spent_delta_micros",
            "reason",
        )
    )
    yield CSV_HEADER
    for (
        created,
        take_id,
        project,
        shot,
        name,
        email,
        provider,
        model,
        params,
        kind,
        held,
        spent,
        reason,
    ) in rows.iterator(chunk_size=2000):
        yield (
            timezone.localtime(created, tz).isoformat(timespec="seconds"),
            str(take_id),
            _cell(project or ""),
            _cell(shot or ""),
            _cell(name or email or ""),
            provider,
            model,
            "on" if (params or {}).get("audio") else "off",
            kind,
            dollars(held),
            held,
            dollars(spent),
            spent,
            reason_label(reason) if reason else "",
        )
