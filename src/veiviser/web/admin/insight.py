"""The insight dashboard, its CSV downloads and the trends as JSON.

Every role but advisor may open it. Each chart is one ``Chart`` object: the
page draws it as SVG, lists it as a table for screen readers and offers it
as CSV, so the three cannot disagree.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from veiviser.errors import InvalidInput, NotFound
from veiviser.insight import handovers, metrics
from veiviser.insight.charts import Chart, svg, to_csv
from veiviser.insight.clock import oslo_day
from veiviser.service import Assistant
from veiviser.service.insight import InsightService, Period, TrendView
from veiviser.service.staff import Role, StaffUser
from veiviser.store.models import utc_now
from veiviser.web.admin.auth import require_role
from veiviser.web.admin.pages import AdminFeature, NavItem, render
from veiviser.web.admin.texts import t

log = logging.getLogger(__name__)
_refreshing = threading.Lock()
ROLES = (Role.ADMINISTRATOR, Role.EDITOR, Role.TRAINER, Role.ANALYST)
router = APIRouter(prefix="/admin/insight", include_in_schema=False)
Staff = Annotated[StaffUser, Depends(require_role(*ROLES))]
TOP = 10
CHARTS = (
    "volume",
    "trend",
    "intents",
    "groups",
    "heatmap",
    "visitors",
    "handovers",
    "waits",
)
# The trend chart shows this many intents: the flagged ones first, then the
# largest rises (one colour each in the colour-blind-safe palette).
TREND_INTENTS = 3


@dataclass(frozen=True)
class RateCard:
    """One rate with its parts and its definition."""

    key: str
    value: float | None
    part: int
    whole: int


def _service(request: Request) -> InsightService:
    assistant: Assistant = request.app.state.assistant
    return InsightService(assistant.sessions, request.app.state.settings)


def _period(range_key: str | None, by: str | None) -> tuple[Period, bool]:
    today = oslo_day(utc_now())
    try:
        return Period.ending(today, range_key, by), False
    except InvalidInput:
        return Period.ending(today, None, None), True


@router.get("", response_class=HTMLResponse)
async def dashboard(
    request: Request, user: Staff, range: str | None = None, by: str | None = None
) -> HTMLResponse:
    """The dashboard for a period (7, 30, 90 or 365 days) and granularity."""
    period, bad = _period(range, by)
    context = await run_in_threadpool(_dashboard_context, _service(request), period)
    return render(
        request,
        "admin/insight.html",
        period=period,
        range_key=_range_key(period),
        bad_period=bad,
        **context,
    )


@router.get("/{name}.csv")
async def chart_csv(
    request: Request,
    user: Staff,
    name: str,
    range: str | None = None,
    by: str | None = None,
) -> Response:
    """One chart's data as CSV (the same rows the chart and its table show)."""
    if name not in CHARTS:
        raise NotFound(
            f"No chart is called {name[:40]!r}.", details={"chart": name[:40]}
        )
    period, _ = _period(range, by)
    chart = await run_in_threadpool(build_chart, _service(request), period, name)
    filename = f"veiviser-{name}-{period.first}-{period.last}.csv"
    return Response(
        "\ufeff" + to_csv(chart),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/trends.json")
async def trends_json(request: Request, user: Staff) -> JSONResponse:
    """Every active intent's trend for the last seven complete days, as JSON."""
    service = _service(request)
    await run_in_threadpool(refresh_rollups, service)
    views = await run_in_threadpool(service.trends)
    return JSONResponse({"trends": [trend_json(view) for view in views]})


def trend_json(view: TrendView) -> dict[str, Any]:
    """One trend as JSON; infinite ratios (nothing before) become null."""
    trend = view.trend
    return {
        "intent": trend.intent,
        "title": view.title,
        "flagged": trend.flagged,
        "message": view.sentence if trend.flagged else None,
        "observed": trend.observed,
        "expected": round(trend.expected, 3),
        "ratio": None if trend.expected == 0 else round(trend.ratio, 3),
        "p_value": trend.p_value,
        "adjusted_p": trend.adjusted_p,
        "dispersion": round(trend.dispersion, 3),
        "series": [{"day": day.isoformat(), "count": n} for day, n in view.series],
    }


def refresh_rollups(service: InsightService) -> None:
    """Bring the rollups up to date without making the reader wait long.

    A day with no rollup at all is computed before the page is drawn; days
    that are only a minute or two stale are recomputed in a background
    thread (one per process at a time), so a page never waits for them.
    """
    if service.needs_blocking_refresh():
        service.refresh()
        return
    if not _refreshing.acquire(blocking=False):
        return

    def run() -> None:
        try:
            service.refresh()
        except Exception:  # a failed refresh must not end the thread silently
            log.exception("background rollup refresh failed")
        finally:
            _refreshing.release()

    threading.Thread(target=run, name="insight-refresh", daemon=True).start()


def _dashboard_context(service: InsightService, period: Period) -> dict[str, Any]:
    refresh_rollups(service)
    overview = service.read(metrics.overview, period.first, period.last)
    trends = service.trends()
    # One read of the handover rows serves both handover charts and the cards.
    series, handover_totals = service.read(
        handovers.handover_figures, period.first, period.last, period.granularity
    )
    made = {
        "trend": trend_chart(trends),
        "handovers": handover_chart(period, "handovers", series),
        "waits": handover_chart(period, "waits", series),
    }
    charts = [made.get(name) or build_chart(service, period, name) for name in CHARTS]
    return {
        "totals": overview.totals,
        "rates": _rate_cards(overview),
        "charts": [(chart, svg(chart)) for chart in charts],
        "flagged": [view for view in trends if view.trend.flagged],
        "trends": trends[:TOP],
        "handovers": handover_totals,
    }


def _rate_cards(overview: metrics.Overview) -> list[RateCard]:
    totals, rates = overview.totals, overview.rates
    messages, engaged = totals["member_messages"], totals["engaged"]
    thumbs = totals["feedback_up"] + totals["feedback_down"]
    return [
        RateCard("answer", rates.answer, totals["answered"], messages),
        RateCard("resolution", rates.resolution, totals["resolved"], engaged),
        RateCard("decline", rates.decline, totals["declined"], messages),
        RateCard("clarify", rates.clarify, totals["clarified"], messages),
        RateCard("handover", rates.handover, totals["handed_over"], engaged),
        RateCard("feedback", rates.feedback, totals["feedback_up"], thumbs),
    ]


def build_chart(service: InsightService, period: Period, name: str) -> Chart:
    """The chart ``name`` for ``period``, read from the rollups."""
    first, last = period.first, period.last
    unit = t(f"insight.unit.{period.granularity}")
    shown = {"first": _date(first), "last": _date(last), "unit": unit}
    if name == "volume":
        rows = service.read(
            metrics.series, first, last, period.granularity,
            ("conversations", "member_messages"),
        )  # fmt: skip
        return Chart(
            "volume",
            t("insight.chart.volume"),
            t("insight.chart.volume_desc", **shown),
            "bars",
            _columns("period", "conversations", "messages"),
            tuple(
                (
                    _bucket(start, period.granularity),
                    v["conversations"],
                    v["member_messages"],
                )
                for start, v in rows
            ),
        )
    if name == "visitors":
        rows = service.read(
            metrics.series, first, last, period.granularity,
            ("new_visitors", "returning_visitors"),
        )  # fmt: skip
        return Chart(
            "visitors",
            t("insight.chart.visitors"),
            t("insight.chart.visitors_desc", **shown),
            "bars",
            _columns("period", "new", "returning"),
            tuple(
                (
                    _bucket(s, period.granularity),
                    v["new_visitors"],
                    v["returning_visitors"],
                )
                for s, v in rows
            ),
        )
    if name in ("intents", "groups"):
        return _ranking_chart(service, period, name)
    if name in ("handovers", "waits"):
        series = service.read(
            handovers.handover_series, first, last, period.granularity
        )
        return handover_chart(period, name, series)
    if name == "trend":
        return trend_chart(service.trends())
    grid = service.read(metrics.heatmap, first, last)
    return Chart(
        "heatmap",
        t("insight.chart.heatmap"),
        t("insight.chart.heatmap_desc"),
        "heatmap",
        (t("insight.column.weekday"), *(f"{hour:02d}" for hour in range(24))),
        tuple(
            (t(f"insight.weekday.d{weekday}"), *grid[weekday]) for weekday in range(7)
        ),
    )


def _ranking_chart(service: InsightService, period: Period, name: str) -> Chart:
    reader = metrics.top_intents if name == "intents" else metrics.top_groups
    ranked = service.read(reader, period.first, period.last, TOP)
    label = "topic" if name == "intents" else "group"
    return Chart(
        name,
        t(f"insight.chart.{name}"),
        t(f"insight.chart.{name}_desc", count=TOP),
        "hbars",
        _columns(label, "count", "share"),
        tuple(
            (item.title or t("insight.no_group"), item.count, round(item.share, 4))
            for item in ranked
        ),
    )


def trend_chart(views: list[TrendView]) -> Chart:
    """Weekly questions of the intents changing most, the tested week last.

    The same nine weeks the trend test reads (eight of baseline, then the
    window), whatever period the page shows.
    """
    shown = views[:TREND_INTENTS]
    days = [day for day, _ in shown[0].series] if shown else []
    weeks = [days[n : n + 7] for n in range(0, len(days), 7)]
    rows = tuple(
        (
            f"{_short_date(week[0])}–{_short_date(week[-1])}",
            *(sum(dict(view.series)[day] for day in week) for view in shown),
        )
        for week in weeks
    )
    return Chart(
        "trend",
        t("insight.chart.trend"),
        t("insight.chart.trend_desc"),
        "bars",
        (t("insight.column.week"), *(view.title for view in shown)),
        rows,
    )


def _short_date(day: date) -> str:
    return day.strftime("%d.%m")


def handover_chart(
    period: Period, name: str, buckets: list[handovers.HandoverBucket]
) -> Chart:
    """The ``handovers`` (counts) or ``waits`` chart of the period's buckets."""
    unit = t(f"insight.unit.{period.granularity}")
    shown = {"first": _date(period.first), "last": _date(period.last), "unit": unit}
    if name == "handovers":
        columns = _columns("period", "requested", "taken", "tickets")
        rows = tuple(
            (_bucket(b.start, period.granularity), b.requested, b.taken, b.tickets)
            for b in buckets
        )
    else:
        columns = _columns("period", "median_wait", "p90_wait")
        rows = tuple(
            (_bucket(b.start, period.granularity), b.median_wait, b.p90_wait)
            for b in buckets
        )
    return Chart(
        name,
        t(f"insight.chart.{name}"),
        t(f"insight.chart.{name}_desc", **shown),
        "bars",
        columns,
        rows,
    )


def _columns(*keys: str) -> tuple[str, ...]:
    return tuple(t(f"insight.column.{key}") for key in keys)


def _bucket(start: date, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return t("insight.week_label", week=week, year=year)
    if granularity == "month":
        return f"{t(f'insight.month.m{start.month}')} {start.year}"
    return _date(start)


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _range_key(period: Period) -> str:
    return str((period.last - period.first).days + 1)


feature = AdminFeature(
    router=router, nav=(NavItem("/admin/insight", "nav.insight", ROLES),)
)
