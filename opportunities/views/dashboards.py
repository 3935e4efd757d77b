"""The SAO dashboard page (`/dashboards/sao/`): opportunities/dashboards.py's figures per
team and per SDR for a month or quarter, each count linked to the records behind it, and
the SDR table as CSV (`?format=csv`); the leads behind each count of its funnel
(`/dashboards/sao/leads/`)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError

from leads.models import InitialSource, Lead
from opportunities import dashboards, quota
from sdrcrm import exports
from sdrcrm.errors import Refused
from sdrcrm.ids import as_id
from sdrcrm.models import Segment, User
from sdrcrm.pagination import Keyset


def percent(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f} %"


def number(value: Fraction) -> str:
    return f"{float(value):.1f}".removesuffix(".0")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _links(period: quota.Period, **who: Any) -> dict[str, str]:
    """The list behind each of an SDR's (`sdr=`) or some teams' (`sdr_team=[…]`) figures in
    the period: the SAOs credited (their pipeline too), those on large-segment accounts
    (SCLAU), the SQOs, the deals won, and the IQMs held."""
    first, last = period.first.isoformat(), period.last.isoformat()
    accepted = {"accepted_from": first, "accepted_to": last}
    filters = {"saos": accepted, "sclau": {**accepted, "segment": Segment.LARGE},
               "sqos": {"qualified_from": first, "qualified_to": last}, "won": {"won_from": first, "won_to": last}}
    links = {figure: f"{reverse('opportunities:list')}?" + urlencode({**who, **query, "credited": "on"}, doseq=True)
             for figure, query in filters.items()}
    links["iqms"] = f"{reverse('opportunities:iqms')}?" + urlencode(
        {**who, "start_from": first, "start_to": last, "held": "on"}, doseq=True)
    return links


def _cells(figures: dashboards.Figures) -> dict[str, Any]:
    return {
        "figures": figures, "quota": number(figures.quota), "attainment": percent(figures.attainment),
        "meter": min(float(figures.attainment or 0), 2.0), "projection": number(figures.projection),
        "iqm_to_sao": percent(figures.iqm_to_sao), "dials_per_day": number(figures.dials_per_day),
        "emails_per_day": number(figures.emails_per_day),
    }


CSV_COLUMNS = ["SDR", "team", "ramp month", "SAOs", "quota", "attainment", "projection", "SCLAU", "SQOs",
               "IQMs held", "IQMs to SAO", "pipeline IACV (USD)", "won IACV (USD)", "dials", "dials per day",
               "emails", "emails per day"]
FUNNEL_COLUMNS = ["initial source", *[f"{dashboards.STAGE_LABELS[stage]} {what}" for stage in dashboards.STAGES
                                      for what in ("count", "rate", "median days")], "SCLAU"]


def _funnel_cells(row: dashboards.FunnelRow) -> list[tuple[int, str, float | None]]:
    """Each stage's count, its share of the stage before in words (none for MQL, the first)
    and its median days."""
    return [(row.counts[stage], percent(row.rates[stage]) if stage != dashboards.STAGES[0] else "", row.days[stage])
            for stage in dashboards.STAGES]


def _sdr_csv(board: dashboards.Dashboard, rows: list[dict[str, Any]], kind: str) -> HttpResponse:
    return exports.csv_response(
        f"sao-dashboard-{board.period.first:%Y-%m}-{kind}-{timezone.now():%Y%m%d-%H%M}.csv", CSV_COLUMNS,
        ([row["sdr"].get_full_name() or row["sdr"].username, row["sdr"].team.name if row["sdr"].team else "",
          row["ramp_month"] or "", row["figures"].saos, row["quota"], row["attainment"], row["projection"],
          row["figures"].sclau, row["figures"].sqos, row["figures"].iqms_held, row["figures"].iqms_to_sao,
          row["figures"].pipeline_iacv, row["figures"].won_iacv, row["figures"].dials, row["dials_per_day"],
          row["figures"].emails, row["emails_per_day"]] for row in rows))


def _funnel_csv(board: dashboards.Dashboard, kind: str) -> HttpResponse:
    return exports.csv_response(
        f"sao-funnel-{board.period.first:%Y-%m}-{kind}.csv", FUNNEL_COLUMNS,
        ([row.label, *[value for count, rate, days in _funnel_cells(row) for value in (count, rate, days)],
          row.sclau] for row in board.funnel))


def _chart_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What static/js/sao_charts.js draws (the SDR table's figures)."""
    return {"daily_dials": dashboards.DAILY_DIALS, "sdrs": [
        {"name": row["sdr"].get_full_name() or row["sdr"].username, "saos": row["figures"].saos,
         "quota": float(row["figures"].quota), "projection": round(float(row["figures"].projection), 1),
         "dials_per_day": round(float(row["figures"].dials_per_day), 1),
         "emails_per_day": round(float(row["figures"].emails_per_day), 1),
         "days": [[day.day.isoformat(), day.dials, day.emails] for day in row["days"]]} for row in rows]}


@login_required
@require_GET
def sao_dashboard_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    kind = request.GET.get("period") if request.GET.get("period") in quota.PERIODS else quota.MONTH
    team, sdr = as_id(request.GET.get("team")), as_id(request.GET.get("sdr"))
    try:
        board = dashboards.sao_dashboard(user, kind, _day(request.GET.get("start")), team, sdr)
    except Refused as exc:  # another team or SDR: not found; a seller: not theirs to read
        raise (Http404 if exc.status == 404 else PermissionDenied)(exc.message) from None
    rows = [{"sdr": row.sdr, "ramp_month": row.ramp_month, "links": _links(board.period, sdr=row.sdr.pk),
             "days": row.days, **_cells(row.figures)} for row in board.rows]
    if request.GET.get("format") == "csv":
        return _funnel_csv(board, kind) if request.GET.get("table") == "funnel" else _sdr_csv(board, rows, kind)
    here = {"period": kind, **({"team": team} if team else {}), **({"sdr": sdr} if sdr else {})}
    behind = f"{reverse('funnel-leads')}?" + urlencode({**here, "start": board.period.first.isoformat()})
    return render(request, "dashboards/sao.html", {
        "board": board, "rows": rows, "kind": kind, "team": team, "teams": user.watched_teams(),
        "team_rows": [{"row": row, "name": row.team.name if row.team else "No team",
                       "who": f"team {row.team.name}" if row.team else "the SDRs without a team",
                       "links": _links(board.period, sdr_team=[row.team.pk]) if row.team else {},
                       **_cells(row.figures)} for row in board.teams],
        # The "All" row is the teams' rows together: its lists are those teams' (none when
        # one of its rows is the SDRs without a team, whose lists no filter can name).
        "total": _cells(board.total), "total_links": _links(board.period, sdr_team=[row.team.pk for row in board.teams])
        if all(row.team for row in board.teams) else {},
        "previous": urlencode({**here, "start": board.period.previous().first.isoformat()}),
        "next": urlencode({**here, "start": board.period.next().first.isoformat()}),
        "csv": urlencode({**here, "start": board.period.first.isoformat(), "format": "csv"}),
        "funnel_csv": urlencode({**here, "start": board.period.first.isoformat(), "format": "csv", "table": "funnel"}),
        "funnel": [{"row": row, "cells": [
            {"count": count, "rate": rate, "days": "" if days is None else f"{number(Fraction(days))} d",
             "link": f"{behind}&" + urlencode({"source": row.source, "stage": stage}),
             "stage": dashboards.STAGE_LABELS[stage]}
            for stage, (count, rate, days) in zip(dashboards.STAGES, _funnel_cells(row), strict=True)],
            "sclau_link": f"{behind}&" + urlencode({"source": row.source, "stage": "sclau"})}
            for row in board.funnel],
        "stage_labels": [dashboards.STAGE_LABELS[stage] for stage in dashboards.STAGES],
        "daily_dials": dashboards.DAILY_DIALS, "daily_emails": dashboards.DAILY_EMAILS,
        "chart_data": _chart_data(rows),
    })


FUNNEL_KEYSET = Keyset(["mql_at"], default="-mql_at", page_size=50)


@login_required
@require_GET
def funnel_leads_page(request: HttpRequest) -> HttpResponse:
    """The leads behind one count of the dashboard's funnel, the latest MQL first, 50 a
    page (keyset)."""
    params = request.GET
    kind, source, stage = params.get("period", quota.MONTH), params.get("source", ""), params.get("stage", "")
    try:
        leads, period = dashboards.funnel_leads(request.user, kind, _day(params.get("start")),
                                                as_id(params.get("team")), as_id(params.get("sdr")), source, stage)
    except Refused as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        raise Http404(exc.message) from None
    try:
        # The page's ids first, from the (owner, MQL time) index alone (a quarter's cohort is
        # tens of thousands of leads), then those 50 leads.
        page, next_cursor = FUNNEL_KEYSET.page(leads.only("pk", "mql_at"), FUNNEL_KEYSET.default,
                                               params.get("cursor"), FUNNEL_KEYSET.page_size)
    except ValidationError:
        return redirect(f"{reverse('funnel-leads')}?{_without_cursor(params)}")
    found = Lead.objects.select_related("owner").in_bulk([lead.pk for lead in page])
    rows = [found[lead.pk] for lead in page]
    back = {key: params[key] for key in ("period", "team", "sdr") if params.get(key)}
    return render(request, "dashboards/funnel_leads.html", {
        "leads": rows, "next_cursor": next_cursor, "base_query": _without_cursor(params), "period": period,
        "kind": kind, "stage": dashboards.STAGE_LABELS[stage],
        "source": InitialSource(source).label if source in InitialSource.values else source,
        "back": urlencode({**back, "start": period.first.isoformat()}),
    })


def _without_cursor(params: Any) -> str:
    query = params.copy()
    query.pop("cursor", None)
    return query.urlencode()
