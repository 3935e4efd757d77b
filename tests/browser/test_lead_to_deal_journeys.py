"""Conversion, opportunities, IQMs, merges and accounts in a real Chromium (docs/rules.md §4, §9): each
test is one journey through the pages, checked on what the page shows and on the database."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from leads import accounts
from leads.models import Account, AccountType, Activity, Contact, InitialSource, Lead, Status, Tombstone
from opportunities.models import IQM, ActivitySource, ClosedLostReason, Disposition, Opportunity, Source, Stage
from opportunities.models import StageChange as OpportunityStageChange
from sdrcrm.models import Role
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    UserFactory,
)

from .conftest import login, screenshots

NEW_YORK = ZoneInfo("America/New_York")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def card(page: Page, heading: str) -> Locator:
    """The page's card (a section.card) under the h2 `heading`."""
    return page.locator("section.card", has=page.get_by_role("heading", name=heading, exact=True))


def message(page: Page) -> Locator:
    return page.get_by_role("status")


def error(page: Page) -> Locator:
    return page.locator(".msg.error")


def name_of(user) -> str:
    return user.get_full_name() or user.username


# --- Convert (lead page) -----------------------------------------------------------------


def test_an_sdr_converts_a_qualifying_lead_into_a_new_account_with_an_opportunity_for_an_ae(page, live_server, sdr):
    ae = UserFactory(role=Role.AE, first_name="Ari", last_name="Closer")
    lead = LeadFactory(owner=sdr, first_name="Quinn", last_name="Buyer", company="Hooli", email="quinn@hooli.com",
                       status=Status.QUALIFYING)
    login(page, live_server, sdr)
    page.goto(f"/leads/{lead.pk}/")
    convert = page.locator("section#convert")

    # The lead matches no account: "a new account" is preselected with the company and its domain.
    expect(convert.locator("input[name=account_choice][value=new]")).to_be_checked()
    expect(convert.locator("input[name=new_name]")).to_have_value("Hooli")
    expect(convert.locator("input[name=new_domain]")).to_have_value("hooli.com")
    convert.locator("select[name=opportunity_owner]").select_option(label="Ari Closer (AE)")
    convert.locator("input[name=iacv]").fill("15000")
    convert.get_by_role("button", name="Convert").click()

    expect(message(page)).to_contain_text(
        "Converted to Quinn Buyer at Hooli; opportunity “Hooli - New business” is pending acceptance.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Qualified")
    expect(convert).to_contain_text("Converted to Quinn Buyer at Hooli.")
    expect(convert.get_by_role("button", name="Convert")).to_have_count(0)
    expect(convert.get_by_role("link", name="Hooli - New business")).to_be_visible()
    expect(convert).to_contain_text("0-Pending Acceptance")
    expect(card(page, "IQMs")).to_contain_text("Converted: book IQMs with the contact.")
    # The page says so at the top and offers nothing that no longer applies.
    banner = page.locator("#converted")
    expect(banner).to_contain_text("Converted. This lead is now the contact Quinn Buyer at Hooli, with the "
                                   "opportunity Hooli - New business.")
    expect(page.get_by_role("button", name="Mark as spam")).to_have_count(0)
    expect(page.get_by_role("heading", name="Change status")).to_have_count(0)
    screenshots(page, "converted-lead")
    banner.get_by_role("link", name="Quinn Buyer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quinn Buyer")
    page.go_back()

    lead.refresh_from_db()
    contact = Contact.objects.get(email="quinn@hooli.com")
    account = Account.objects.get(domain="hooli.com")
    opportunity = Opportunity.objects.get(lead=lead)
    assert (lead.status, lead.converted_to_id) == (Status.QUALIFIED, contact.pk)
    assert (contact.account_id, contact.owner_id, contact.full_name) == (account.pk, sdr.pk, "Quinn Buyer")
    assert (account.name, account.owner_id, account.type) == ("Hooli", ae.pk, AccountType.PROSPECT)
    assert opportunity.stage == Stage.PENDING_ACCEPTANCE
    assert (opportunity.account_id, opportunity.owner_id, opportunity.sdr_id) == (account.pk, ae.pk, sdr.pk)
    assert (opportunity.primary_contact_id, opportunity.iacv, opportunity.source) == (
        contact.pk, Decimal("15000"), Source.SDR_GENERATED)

    # The account link leads to the new account, which lists the contact and the deal.
    convert.get_by_role("link", name="Hooli", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/accounts/{account.pk}/")
    expect(card(page, "Contacts")).to_contain_text("Quinn Buyer")
    expect(card(page, "Opportunities")).to_contain_text("Hooli - New business")


def test_converting_an_mql_lead_into_its_prospect_account_is_refused_and_changes_nothing(page, live_server, sdr):
    ae = UserFactory(role=Role.AE)
    account = AccountFactory(name="Prospectco", domain="prospectco.com", type=AccountType.PROSPECT)
    lead = LeadFactory(owner=sdr, last_name="Early", company="Prospectco", email="early@prospectco.com",
                       status=Status.MQL, account=account)
    login(page, live_server, sdr)
    page.goto(f"/leads/{lead.pk}/")
    convert = page.locator("section#convert")

    expect(convert.locator("input[name=account_choice][value=matched]")).to_be_checked()
    convert.locator("select[name=opportunity_owner]").select_option(value=str(ae.pk))
    convert.get_by_role("button", name="Convert").click()

    expect(error(page)).to_contain_text("This lead is MQL: it must be Qualifying to be converted")
    expect(page.get_by_role("heading", level=1)).to_contain_text("MQL")
    expect(convert.get_by_role("button", name="Convert")).to_be_visible()
    lead.refresh_from_db()
    assert (lead.status, lead.converted_to_id) == (Status.MQL, None)
    assert not Contact.objects.exists()
    assert not Opportunity.objects.exists()
    assert list(Account.objects.values_list("pk", flat=True)) == [account.pk]


# --- Opportunity page ----------------------------------------------------------------------


def test_the_ae_accepts_a_pending_opportunity_only_once_it_meets_the_sao_criteria(page, live_server, sdr):
    ae = UserFactory(role=Role.AE)
    opportunity = OpportunityFactory(name="Globex platform", account=AccountFactory(owner=ae), owner=ae, sdr=sdr)
    login(page, live_server, ae)

    # From the list: the AE's opportunity, pending acceptance.
    page.goto("/opportunities/")
    row = page.locator("table tbody tr", has=page.get_by_role("link", name="Globex platform"))
    expect(row).to_contain_text("0-Pending Acceptance")
    row.get_by_role("link", name="Globex platform").click()
    expect(page).to_have_url(f"{live_server.url}/opportunities/{opportunity.pk}/")
    stage_card = card(page, "Change stage")

    # Without authority confirmed and a business problem, 1-Discovery is refused.
    stage_card.locator("select[name=stage]").select_option(label="1-Discovery")
    stage_card.get_by_role("button", name="Move").click()
    expect(error(page)).to_contain_text(
        "An SAO needs authority confirmed (right person, right profile) and a business problem before it moves "
        "to 1-Discovery.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("0-Pending Acceptance")
    expect(card(page, "Stage history")).to_contain_text("No changes yet.")
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.sales_accepted_date) == (Stage.PENDING_ACCEPTANCE, None)

    qualification = card(page, "Qualification")
    qualification.get_by_label("Authority confirmed").check()
    qualification.get_by_label("Business problem").fill("Releases take three weeks.")
    qualification.get_by_role("button", name="Save").click()
    expect(message(page)).to_contain_text("Saved.")

    stage_card.locator("select[name=stage]").select_option(label="1-Discovery")
    stage_card.get_by_role("button", name="Move").click()

    expect(message(page)).to_contain_text("Stage is now 1-Discovery.")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("1-Discovery")
    expect(heading).to_contain_text("SAO")
    history = card(page, "Stage history").locator("tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("0-Pending Acceptance → 1-Discovery")
    expect(history).to_contain_text(name_of(ae))
    opportunity.refresh_from_db()
    assert opportunity.stage == Stage.DISCOVERY
    assert opportunity.sales_accepted_date == timezone.localdate()
    assert (opportunity.authority_confirmed, opportunity.business_problem) == (True, "Releases take three weeks.")
    change = OpportunityStageChange.objects.get(opportunity=opportunity)
    assert (change.old, change.new, change.by_id) == (Stage.PENDING_ACCEPTANCE, Stage.DISCOVERY, ae.pk)


def test_closing_lost_needs_a_reason_and_a_merge_target_for_merged_then_closes(page, live_server, sdr):
    ae = UserFactory(role=Role.AE)
    opportunity = OpportunityFactory(name="Initech renewal", account=AccountFactory(owner=ae), owner=ae, sdr=sdr)
    login(page, live_server, ae)
    page.goto(f"/opportunities/{opportunity.pk}/")
    stage_card = card(page, "Change stage")

    stage_card.locator("select[name=stage]").select_option(label="8-Closed Lost")
    stage_card.get_by_role("button", name="Move").click()
    expect(error(page)).to_contain_text("Closing lost needs a reason")

    stage_card.locator("select[name=stage]").select_option(label="8-Closed Lost")
    stage_card.locator("select[name=closed_lost_reason]").select_option(label="Merged into another opportunity")
    stage_card.get_by_role("button", name="Move").click()
    expect(error(page)).to_contain_text("Reason 'merged' needs the opportunity it was merged into (merged_into).")
    expect(page.get_by_role("heading", level=1)).to_contain_text("0-Pending Acceptance")
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.closed_lost_reason, opportunity.closed_at) == (
        Stage.PENDING_ACCEPTANCE, "", None)
    assert not OpportunityStageChange.objects.filter(opportunity=opportunity).exists()

    stage_card.locator("select[name=stage]").select_option(label="8-Closed Lost")
    stage_card.locator("select[name=closed_lost_reason]").select_option(label="No budget")
    stage_card.locator("textarea[name=closed_lost_details]").fill("Budget frozen until next year.")
    stage_card.get_by_role("button", name="Move").click()

    expect(message(page)).to_contain_text("Stage is now 8-Closed Lost.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("8-Closed Lost")
    snapshots = card(page, "Snapshots")
    expect(snapshots).to_contain_text("No budget")
    expect(snapshots).to_contain_text("Budget frozen until next year.")
    expect(card(page, "Stage history").locator("tbody tr")).to_contain_text("0-Pending Acceptance → 8-Closed Lost")
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.closed_lost_reason) == (Stage.CLOSED_LOST, ClosedLostReason.NO_BUDGET)
    assert opportunity.closed_lost_details == "Budget frozen until next year."
    assert opportunity.closed_at is not None and opportunity.merged_into_id is None
    assert OpportunityStageChange.objects.filter(opportunity=opportunity).count() == 1


def test_a_duplicate_deal_is_closed_as_merged_into_the_one_picked_by_typing_its_name(page, live_server, sdr):
    ae = UserFactory(role=Role.AE)
    account = AccountFactory(owner=ae, name="Initech")
    duplicate = OpportunityFactory(name="Initech - New (2)", account=account, owner=ae, sdr=sdr)
    kept = OpportunityFactory(name="Initech - New", account=account, owner=ae, sdr=sdr)
    login(page, live_server, ae)
    page.goto(f"/opportunities/{duplicate.pk}/")
    stage_card = card(page, "Change stage")

    stage_card.locator("select[name=stage]").select_option(label="8-Closed Lost")
    stage_card.locator("select[name=closed_lost_reason]").select_option(label="Merged into another opportunity")
    stage_card.get_by_role("searchbox", name="Merged into").fill("initech")
    choice = stage_card.locator(f"button[data-pick='{kept.pk}']")
    expect(choice).to_be_visible()
    screenshots(page, "picker-merged-into")
    choice.click()
    expect(stage_card.get_by_role("searchbox", name="Merged into")).to_have_value("Initech - New")
    stage_card.get_by_role("button", name="Move").click()

    expect(message(page)).to_contain_text("Stage is now 8-Closed Lost.")
    duplicate.refresh_from_db()
    assert (duplicate.closed_lost_reason, duplicate.merged_into) == (ClosedLostReason.MERGED, kept)


# --- IQM card (lead page) -------------------------------------------------------------------


def test_booking_an_iqm_from_the_lead_page_refuses_an_end_before_the_start_then_lists_it(page, live_server, sdr):
    lead = LeadFactory(owner=sdr, first_name="Nora", last_name="Meeting", status=Status.ACCEPTED)
    # Typed as the AMER SDR's own wall-clock time: New York's.
    start = (timezone.now() + timedelta(days=1)).astimezone(NEW_YORK).replace(hour=15, minute=0, second=0,
                                                                              microsecond=0)
    login(page, live_server, sdr)
    page.goto(f"/leads/{lead.pk}/")
    iqms = card(page, "IQMs")
    expect(iqms).to_contain_text("No IQMs yet.")

    iqms.get_by_label(re.compile(r"^Start \(")).fill(f"{start:%Y-%m-%dT%H:%M}")
    iqms.get_by_label(re.compile(r"^End \(")).fill(f"{start - timedelta(minutes=30):%Y-%m-%dT%H:%M}")
    iqms.get_by_role("button", name="Book IQM").click()
    expect(error(page)).to_contain_text("The IQM must end after it starts.")
    expect(iqms).to_contain_text("No IQMs yet.")
    assert not IQM.objects.exists()

    iqms.get_by_label(re.compile(r"^Start \(")).fill(f"{start:%Y-%m-%dT%H:%M}")
    iqms.get_by_label(re.compile(r"^End \(")).fill(f"{start + timedelta(minutes=30):%Y-%m-%dT%H:%M}")
    iqms.get_by_label("Location").fill("Zoom")
    iqms.get_by_label("Activity source").select_option(label="Outbound")
    iqms.get_by_role("button", name="Book IQM").click()

    expect(message(page)).to_contain_text(
        f"Booked Nora Meeting - IQM on {start:%Y-%m-%d %H:%M %Z} with {name_of(sdr)}.")
    row = iqms.locator("tbody tr").first
    expect(row).to_contain_text("Nora Meeting - IQM")
    expect(row).to_contain_text(f"{start:%Y-%m-%d %H:%M}")
    expect(row).to_contain_text(name_of(sdr))
    expect(row).to_contain_text("Scheduled")
    iqm = IQM.objects.get()
    assert (iqm.lead_id, iqm.contact_id, iqm.subject) == (lead.pk, None, "Nora Meeting - IQM")
    assert (iqm.sdr_id, iqm.booked_by_id) == (sdr.pk, sdr.pk)
    assert (iqm.start, iqm.end) == (start, start + timedelta(minutes=30))
    assert (iqm.location, iqm.activity_source, iqm.disposition) == ("Zoom", ActivitySource.OUTBOUND,
                                                                   Disposition.SCHEDULED)


# --- Duplicates card: merge and undo --------------------------------------------------------


def test_merging_a_duplicate_from_the_lead_page_and_ops_undoing_it(page, live_server, sdr, ops):
    # The duplicate is the older record: its initial source is the one the survivor keeps.
    other = LeadFactory(owner=sdr, first_name="Jon", last_name="Doe", email="jon.doe@globex.com",
                        initial_source=InitialSource.CONFERENCE)
    survivor = LeadFactory(owner=sdr, first_name="Jane", last_name="Doe", email="jane.doe@globex.com",
                           initial_source=InitialSource.WEBCAST, status=Status.MQL)
    Lead.objects.filter(pk=other.pk).update(created_at=timezone.now() - timedelta(days=30))
    activity = ActivityFactory(lead=other)
    login(page, live_server, sdr)
    page.goto(f"/leads/{survivor.pk}/")
    duplicates = card(page, "Duplicates")
    row = duplicates.locator("tbody tr", has=page.get_by_role("link", name="Jon Doe"))
    expect(row).to_contain_text("Same company domain and last name")

    row.get_by_role("button", name="Merge into this lead").click()

    expect(message(page)).to_contain_text("Merged Jon Doe (jon.doe@globex.com) into this lead; ops can undo it.")
    expect(page).to_have_url(f"{live_server.url}/leads/{survivor.pk}/")
    expect(duplicates).to_contain_text("No duplicates found")
    expect(duplicates.get_by_role("heading", name="Merged into this lead")).to_be_visible()
    merged_row = duplicates.locator("tr", has_text=f"lead {other.pk}")
    expect(merged_row).to_contain_text("Jon Doe")
    expect(merged_row).to_contain_text(name_of(sdr))
    expect(duplicates.get_by_role("button", name="Undo")).to_have_count(0)  # ops only
    assert not Lead.objects.filter(pk=other.pk).exists()
    tombstone = Tombstone.objects.get(kind=Tombstone.Kind.MERGE, original_id=other.pk)
    assert (tombstone.merged_into_id, tombstone.marked_by_id, tombstone.undone_at) == (survivor.pk, sdr.pk, None)
    survivor.refresh_from_db()
    assert (survivor.owner_id, survivor.status, survivor.initial_source) == (
        sdr.pk, Status.MQL, InitialSource.CONFERENCE)
    assert Activity.objects.get(pk=activity.pk).lead_id == survivor.pk

    page.get_by_role("button", name="Log out").click()
    login(page, live_server, ops)
    page.goto(f"/leads/{survivor.pk}/")
    card(page, "Duplicates").get_by_role("button", name="Undo").click()

    expect(message(page)).to_contain_text("Merge undone: Jon Doe (jon.doe@globex.com) is back as a lead.")
    expect(page).to_have_url(f"{live_server.url}/leads/{other.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jon Doe")
    restored = Lead.objects.get(pk=other.pk)
    assert (restored.email, restored.owner_id, restored.initial_source) == (
        "jon.doe@globex.com", sdr.pk, InitialSource.CONFERENCE)
    assert Activity.objects.get(pk=activity.pk).lead_id == other.pk
    tombstone.refresh_from_db()
    assert tombstone.undone_at is not None and tombstone.undone_by_id == ops.pk
    survivor.refresh_from_db()
    assert survivor.initial_source == InitialSource.WEBCAST

    page.goto(f"/leads/{survivor.pk}/")
    merged_row = card(page, "Duplicates").locator("tr", has_text=f"lead {other.pk}")
    expect(merged_row).to_contain_text("Undone")
    expect(merged_row.get_by_role("button", name="Undo")).to_have_count(0)


# --- Account page ------------------------------------------------------------------------


def test_the_account_page_shows_tier_and_people_and_an_sdr_flags_it_targeted(page, live_server, sdr):
    # Through the account service, which computes the tier: good-fit industry, early-adopter
    # keywords and 250+ IT employees are three qualifiers, tier B.
    account = accounts.save_account(Account(), {
        "name": "Initrode", "domain": "initrode.com", "industry": "Computer Software",
        "tech_stack": "Kubernetes, CI/CD", "it_employees": 300, "country": "US",
    })
    assert account.tier == "B"
    LeadFactory(owner=sdr, first_name="Lee", last_name="Matched", title="CTO", account=account)
    ContactFactory(owner=sdr, first_name="Cora", last_name="Contact", account=account)
    login(page, live_server, sdr)
    page.goto(f"/accounts/{account.pk}/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Initrode")
    tier = card(page, "Tier: B")
    expect(tier).to_contain_text("Qualifiers met: 250+ employees in IT/TEDD, Good-fit industry, "
                                 "Early-adopter keywords in the tech stack.")
    expect(tier.locator("dd").first).to_have_text("No")
    expect(card(page, "Leads matched to it").get_by_role("link", name="Lee Matched")).to_be_visible()
    expect(card(page, "Leads matched to it")).to_contain_text("CTO")
    expect(card(page, "Contacts")).to_contain_text("Cora Contact")

    tier.get_by_role("button", name="Flag as targeted by me").click()

    expect(message(page)).to_contain_text("Targeted.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("targeted")
    expect(tier.locator("dd").first).to_have_text(
        re.compile(rf"^Yes, by {re.escape(name_of(sdr))} since {timezone.localdate():%Y-%m-%d}$"))
    expect(tier.get_by_role("button", name="Unflag targeted")).to_be_visible()
    account.refresh_from_db()
    assert (account.targeted, account.targeted_by_id) == (True, sdr.pk)
    assert account.targeted_at is not None
