"""Demo opportunities for `seed_demo`: Qualifying leads that met their AE in an IQM are
converted with an opportunity, which then moves through its stages, and a few IQMs
were no-shows. Everything goes through the services (convert_lead, change_stage,
book_iqm, update_iqm), with `now` set in the past, so the demo's history, SAO dates
and snapshots are what the product itself would have written."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from leads import domains
from leads.conversion import convert_lead
from leads.models import Lead, Status, StatusChange
from opportunities.iqms import book_iqm, update_iqm
from opportunities.models import ActivitySource, ClosedLostReason, Disposition, Stage
from opportunities.services import change_stage
from sdrcrm.models import PROSPECTING_ROLES, User

S = Stage
# Where each converted deal has got to, walked stage by stage.
PATHS = [
    [],
    [S.DISCOVERY],
    [S.DISCOVERY, S.CLOSED_LOST],
    [S.DISCOVERY, S.SCOPING, S.PROPOSAL, S.NEGOTIATING, S.CLOSED_WON],
    [S.UNQUALIFIED],
    [S.DISCOVERY, S.SCOPING],
    [],
    [S.DISCOVERY, S.SCOPING, S.TECHNICAL_EVALUATION],
    [S.DISCOVERY, S.SCOPING, S.TECHNICAL_EVALUATION, S.PROPOSAL],
]
PROBLEMS = ["Releases take a week of manual steps", "Three CI tools and no single view of security findings",
            "Audit asks for traceability from issue to deploy", "Self-hosted runners cost too much to keep up"]
# At most this many, and a third of the Qualifying leads, so the views keep some to work.
CONVERSIONS = 27
NO_SHOWS = 4


def seed_opportunities(rng: random.Random, now: datetime, users: dict[str, User]) -> tuple[int, int]:
    """Returns the number of opportunities and IQMs created."""
    sellers = [users["sal"], users["ae"]]
    qualifying = list(Lead.objects.filter(status=Status.QUALIFYING, converted_to=None,
                                          owner__role__in=PROSPECTING_ROLES)
                      .select_related("owner", "account").order_by("pk"))
    converting = min(CONVERSIONS, len(qualifying) // 3)
    no_shows = qualifying[converting:converting + min(NO_SHOWS, len(qualifying) // 5)]
    opportunities = iqms = 0
    for n, lead in enumerate(qualifying[:converting]):
        sdr, owner = lead.owner, sellers[n % len(sellers)]
        # Over the last quarter, a few days ago at the latest: the SAO dashboard's history.
        met = now - timedelta(days=rng.randint(3, 88), hours=rng.randint(0, 8))
        _lead_up_to(lead, met, rng)
        iqm = book_iqm(lead, {"start": met, "end": met + timedelta(minutes=30),
                              "activity_source": rng.choice(list(ActivitySource.values)),
                              "description": "Intro call with the AE."}, by=sdr, now=met - timedelta(days=2))
        iqms += 1
        new_account = None
        if lead.account is None:
            domain = lead.email_domain if not domains.is_free(lead.email_domain) else ""
            new_account = {"name": lead.company or f"{lead.last_name} household", "domain": domain,
                           "country": lead.country, "employee_count": lead.employee_count}
        iacv = Decimal(rng.choice([4_800, 9_600, 14_400, 28_000, 60_000]))
        converted = convert_lead(lead, by=sdr, new_account=new_account, now=met + timedelta(hours=2), opportunity={
            "owner": owner, "iacv": iacv, "authority_confirmed": True, "business_problem": rng.choice(PROBLEMS)})
        opportunity = converted.opportunity
        opportunities += 1
        moved = met + timedelta(days=1)
        for stage in PATHS[n % len(PATHS)]:
            change_stage(opportunity, stage, by=owner, now=moved,
                         closed_lost_reason=ClosedLostReason.TIMING if stage == S.CLOSED_LOST else "",
                         closed_won_details="Won on the single application for CI and security"
                         if stage == S.CLOSED_WON else "")
            moved = min(moved + timedelta(days=rng.randint(1, 6)), now - timedelta(hours=1))  # never ahead
        iqm.refresh_from_db()
        disposition = Disposition.SAO if opportunity.is_sao else Disposition.QUALIFIED_MEETING
        update_iqm(iqm, {"disposition": disposition}, now=met + timedelta(hours=3))
    for lead in no_shows:
        # Meetings nobody came to, three weeks ago: the stale_opportunities job flags them.
        missed = now - timedelta(days=21)
        book_iqm(lead, {"start": missed, "end": missed + timedelta(minutes=30), "disposition": Disposition.NO_SHOW},
                 by=lead.owner, now=missed - timedelta(days=1))
        iqms += 1
    return opportunities, iqms


def _lead_up_to(lead: Lead, met: datetime, rng: random.Random) -> None:
    """Put a converting lead's history just before its IQM, as it would have happened: MQL,
    accepted a day or two later, qualifying a few days after that (the funnel's days)."""
    qualifying = met - timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 6))
    accepted = qualifying - timedelta(days=rng.randint(1, 6))
    mql = accepted - timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 12))
    created = min(lead.created_at, mql - timedelta(days=rng.randint(1, 30)))
    fields = {"created_at": created, "mql_at": mql, "last_mql_at": mql, "accepted_at": accepted,
              "qualifying_at": qualifying, "status_changed_at": qualifying}
    Lead.objects.filter(pk=lead.pk).update(**fields)
    StatusChange.objects.filter(lead=lead, new=Status.QUALIFYING).update(at=qualifying)
    for name, value in fields.items():
        setattr(lead, name, value)
