"""Record-level access through the API (docs/rules.md §8.2): what a user may not see answers 404 and
is absent from every list, what they may read but not change answers 403, and the
upsert by email neither leaks nor overwrites other people's leads."""

from __future__ import annotations

import pytest

from leads.models import (
    Activity,
    ActivityType,
    Contact,
    Enrollment,
    InitialSource,
    Lead,
    SequenceEvent,
    Status,
    StatusChange,
)
from sdrcrm.models import Role
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EnrollmentFactory,
    LeadFactory,
    SequenceFactory,
    TeamFactory,
    UserFactory,
)
from tests.leads.conftest import LEADS

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
ACTIVITIES = "/api/v1/activities/"


def lead_url(lead: Lead, action: str = "") -> str:
    return f"{LEADS}{lead.pk}/{action + '/' if action else ''}"


def result_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def stored(model, pk: int) -> dict:
    """Every column of a row as stored, to prove a refused request wrote nothing."""
    return model.objects.filter(pk=pk).values().get()


# --- Another team's SDR: not found, never another person's data ---------------------

LEAD_ENDPOINTS = [
    ("get", "", None),
    ("patch", "", {"title": "Chief Hijacker"}),
    ("put", "", {"email": "x@acme.com", "last_name": "Hijacked"}),
    ("post", "status", {"status": Status.ACCEPTED}),
    ("get", "history", None),
]


@pytest.mark.parametrize(("method", "action", "body"), LEAD_ENDPOINTS)
def test_sdr_of_another_team_gets_404_on_every_lead_endpoint(api, sdr, other_sdr, method, action, body):
    lead = LeadFactory(owner=sdr, last_name="Secretsson")
    before = stored(Lead, lead.pk)

    response = getattr(api.as_user(other_sdr), method)(lead_url(lead, action), body, format="json")

    assert response.status_code == 404
    assert response.json()["detail"]
    assert b"Secretsson" not in response.content and lead.email.encode() not in response.content
    assert stored(Lead, lead.pk) == before
    assert not StatusChange.objects.exists()


@pytest.mark.parametrize(
    "query",
    ["", "?view=my_mqls", "?view=high_priority", "?status=mql", "?search=Globex", "?ordering=score"],
)
def test_another_teams_lead_is_absent_from_lead_lists(api, sdr, other_sdr, query):
    theirs = LeadFactory(owner=sdr, status=Status.MQL, high_priority=True, company="Globex")
    mine = LeadFactory(owner=other_sdr, status=Status.MQL, high_priority=True, company="Globex")

    ids = result_ids(api.as_user(other_sdr).get(LEADS + query))

    assert ids == {mine.pk}
    assert theirs.pk not in ids


def test_filtering_on_another_teams_sdr_as_owner_lists_nothing(api, sdr, other_sdr):
    LeadFactory(owner=sdr)

    assert result_ids(api.as_user(other_sdr).get(f"{LEADS}?owner={sdr.pk}")) == set()


@pytest.mark.parametrize(("method", "body"), [("get", None), ("patch", {"title": "Chief Hijacker"})])
def test_sdr_of_another_team_gets_404_on_a_contact(api, sdr, other_sdr, method, body):
    contact = ContactFactory(owner=sdr)
    before = stored(Contact, contact.pk)

    response = getattr(api.as_user(other_sdr), method)(f"{CONTACTS}{contact.pk}/", body, format="json")

    assert response.status_code == 404
    assert response.json()["detail"]
    assert stored(Contact, contact.pk) == before


def test_another_teams_contact_is_absent_from_contact_lists(api, sdr, other_sdr):
    ContactFactory(owner=sdr)
    mine = ContactFactory(owner=other_sdr)

    assert result_ids(api.as_user(other_sdr).get(CONTACTS)) == {mine.pk}


def test_sdr_cannot_record_an_activity_on_another_teams_lead_by_email(api, sdr, other_sdr):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(other_sdr).post(
        ACTIVITIES, {"email": lead.email, "type": ActivityType.CALL}, format="json"
    )

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_sdr_cannot_record_an_activity_on_another_teams_lead_by_id(api, sdr, other_sdr):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(other_sdr).post(ACTIVITIES, {"lead": lead.pk, "type": ActivityType.CALL}, format="json")

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_sdr_without_a_team_does_not_see_leads_of_other_teamless_sdrs(api):
    loner, other_loner = UserFactory(role=Role.SDR, team=None), UserFactory(role=Role.SDR, team=None)
    lead = LeadFactory(owner=other_loner)

    assert api.as_user(loner).get(lead_url(lead)).status_code == 404


# --- Teammates: read, but not change -------------------------------------------------


def test_teammate_reads_a_teammates_lead(api, sdr, teammate):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(teammate).get(lead_url(lead))

    assert response.status_code == 200
    assert response.json()["email"] == lead.email


def test_teammate_reads_a_teammates_lead_history(api, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    api.as_user(sdr).post(lead_url(lead, "status"), {"status": Status.ACCEPTED}, format="json")

    response = api.as_user(teammate).get(lead_url(lead, "history"))

    assert response.status_code == 200
    assert [(row["old"], row["new"]) for row in response.json()] == [(Status.RAW, Status.ACCEPTED)]


def test_teammate_sees_a_teammates_lead_in_the_unfiltered_list(api, sdr, teammate):
    lead = LeadFactory(owner=sdr)

    assert lead.pk in result_ids(api.as_user(teammate).get(LEADS))


def test_teammate_may_not_edit_a_teammates_lead(api, sdr, teammate):
    lead = LeadFactory(owner=sdr, title="CTO")
    before = stored(Lead, lead.pk)

    response = api.as_user(teammate).patch(lead_url(lead), {"title": "Intern"}, format="json")

    assert response.status_code == 403
    assert "not change" in response.json()["detail"]
    assert stored(Lead, lead.pk) == before


def test_teammate_may_not_change_a_teammates_lead_status(api, sdr, teammate):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(teammate).post(lead_url(lead, "status"), {"status": Status.ACCEPTED}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"]
    assert Lead.objects.get(pk=lead.pk).status == Status.RAW
    assert not StatusChange.objects.exists()


def test_teammate_may_not_edit_a_teammates_contact(api, sdr, teammate):
    contact = ContactFactory(owner=sdr, title="CTO")

    response = api.as_user(teammate).patch(f"{CONTACTS}{contact.pk}/", {"title": "Intern"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"]
    assert Contact.objects.get(pk=contact.pk).title == "CTO"


# --- Owners, managers and ops change ----------------------------------------------------


def test_owner_edits_their_lead(api, sdr):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(sdr).patch(lead_url(lead), {"title": "VP Engineering"}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == "VP Engineering"
    assert Lead.objects.get(pk=lead.pk).title == "VP Engineering"


def test_owner_changes_their_leads_status_and_it_is_recorded(api, sdr):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(sdr).post(lead_url(lead, "status"), {"status": Status.ACCEPTED}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == Status.ACCEPTED
    change = StatusChange.objects.get(lead=lead)
    assert (change.old, change.new, change.by) == (Status.RAW, Status.ACCEPTED, sdr)


def test_manager_reads_and_edits_a_lead_of_their_team(api, sdr, manager):
    lead = LeadFactory(owner=sdr)
    client = api.as_user(manager)

    assert client.get(lead_url(lead)).status_code == 200
    response = client.patch(lead_url(lead), {"title": "Director of IT"}, format="json")

    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).title == "Director of IT"


def test_manager_changes_the_status_of_a_lead_of_their_team(api, sdr, manager):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(manager).post(lead_url(lead, "status"), {"status": Status.ACCEPTED}, format="json")

    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).status == Status.ACCEPTED


def test_manager_of_another_team_gets_404_on_a_lead(api, sdr):
    other_manager = UserFactory(role=Role.SDR_MANAGER, team=TeamFactory())
    lead = LeadFactory(owner=sdr)

    assert api.as_user(other_manager).get(lead_url(lead)).status_code == 404


def test_ops_reads_and_edits_anyones_lead(api, sdr, other_sdr, ops):
    leads = [LeadFactory(owner=sdr), LeadFactory(owner=other_sdr)]
    client = api.as_user(ops)

    for lead in leads:
        assert client.get(lead_url(lead)).status_code == 200
        assert client.patch(lead_url(lead), {"title": "Head of Platform"}, format="json").status_code == 200
        assert client.post(lead_url(lead, "status"), {"status": Status.ACCEPTED}, format="json").status_code == 200

    assert set(Lead.objects.values_list("title", "status")) == {("Head of Platform", Status.ACCEPTED)}


def test_ops_lists_everyones_leads(api, sdr, other_sdr, ops):
    leads = [LeadFactory(owner=sdr), LeadFactory(owner=other_sdr), LeadFactory(owner=None)]

    assert result_ids(api.as_user(ops).get(LEADS)) == {lead.pk for lead in leads}


# --- Integrations: read what they created, write activity for anyone ---------------------


def test_integration_reads_the_lead_it_created(api, integration):
    client = api.as_user(integration)
    created = client.post(
        LEADS, {"email": "new@acme.com", "last_name": "New", "initial_source": InitialSource.WEBCAST}, format="json"
    )

    assert created.status_code == 201
    assert client.get(f"{LEADS}{created.json()['id']}/").status_code == 200


def test_integration_gets_404_on_a_lead_it_did_not_create(api, sdr, integration):
    lead = LeadFactory(owner=sdr)

    assert api.as_user(integration).get(lead_url(lead)).status_code == 404


def test_integration_lists_only_the_leads_it_created(api, sdr, integration):
    LeadFactory(owner=sdr)
    LeadFactory(owner=None)
    own = LeadFactory(created_by=integration)

    assert result_ids(api.as_user(integration).get(LEADS)) == {own.pk}


def test_integration_records_an_activity_by_email_on_any_lead(api, sdr, integration):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(integration).post(
        ACTIVITIES, {"email": lead.email.upper(), "type": ActivityType.PRICING_PAGE_VISIT}, format="json"
    )

    assert response.status_code == 201
    assert Activity.objects.get().lead == lead
    # Accepted, and nothing said about a lead the integration may not read.
    assert response.json() == {"id": Activity.objects.get().pk, "result": "accepted"}


def test_integration_upserting_someone_elses_lead_learns_nothing_but_what_it_sent(api, sdr, integration):
    lead = LeadFactory(owner=sdr, email="cfo@acme.com", phone="+1 555 0100", title="CFO")

    response = api.as_user(integration).post(LEADS, {"email": "CFO@acme.com", "city": "Boston"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"email": "CFO@acme.com", "city": "Boston", "id": lead.pk, "result": "updated"}
    lead.refresh_from_db()
    assert lead.city == "Boston" and lead.owner == sdr  # the update itself was made


def test_integration_bulk_items_on_someone_elses_lead_answer_only_what_was_sent(api, sdr, integration):
    theirs = LeadFactory(owner=sdr, email="cfo@acme.com", phone="+1 555 0100")

    response = api.as_user(integration).post(f"{LEADS}bulk/", {"leads": [
        {"email": "cfo@acme.com", "city": "Boston", "activities": [{"type": ActivityType.PRICING_PAGE_VISIT}]},
        {"email": "new@acme.com", "last_name": "New", "initial_source": InitialSource.WEBCAST},
    ]}, format="json")

    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first == {"index": 0, "email": "cfo@acme.com", "city": "Boston", "id": theirs.pk, "result": "updated"}
    assert second["result"] == "created" and second["status"] == "raw"  # its own lead: the whole answer


def test_integration_gets_404_recording_an_activity_by_id_on_a_lead_it_may_not_read(api, sdr, integration):
    lead = LeadFactory(owner=sdr)

    response = api.as_user(integration).post(
        ACTIVITIES, {"lead": lead.pk, "type": ActivityType.PRICING_PAGE_VISIT}, format="json")

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_integration_gets_404_enrolling_a_lead_it_may_not_read(api, sdr, integration):
    lead = LeadFactory(owner=sdr, status="mql")
    sequence = SequenceFactory()

    response = api.as_user(integration).post("/api/v1/enrollments/", {"sequence": sequence.pk, "lead": lead.pk},
                                             format="json")

    assert response.status_code == 404
    assert not Enrollment.objects.exists()


def test_integration_gets_404_posting_an_event_on_an_enrolment_it_may_not_see(api, sdr, integration):
    enrollment = EnrollmentFactory(lead=LeadFactory(owner=sdr))

    response = api.as_user(integration).post(f"/api/v1/enrollments/{enrollment.pk}/events/",
                                             {"kind": "replied"}, format="json")

    assert response.status_code == 404
    assert not SequenceEvent.objects.exists()


def test_integration_posts_events_on_the_enrolments_it_made(api, integration):
    lead = LeadFactory(owner=None, created_by=integration, status="mql")
    enrollment = EnrollmentFactory(lead=lead, enrolled_by=integration)

    response = api.as_user(integration).post(f"/api/v1/enrollments/{enrollment.pk}/events/",
                                             {"kind": "step_completed", "step": 1}, format="json")

    assert response.status_code == 202
    assert SequenceEvent.objects.get().enrollment == enrollment


# --- Sellers: their contacts and accounts, nobody's leads ---------------------------------


@pytest.fixture
def sal(db):
    return UserFactory(role=Role.SAL)


def test_seller_reads_a_contact_they_own(api, sal):
    contact = ContactFactory(owner=sal)

    assert api.as_user(sal).get(f"{CONTACTS}{contact.pk}/").status_code == 200


def test_seller_reads_a_contact_at_an_account_they_own(api, sal, sdr):
    contact = ContactFactory(owner=sdr, account=AccountFactory(owner=sal))

    assert api.as_user(sal).get(f"{CONTACTS}{contact.pk}/").status_code == 200


def test_seller_gets_404_on_a_contact_at_someone_elses_account(api, sal, sdr):
    contact = ContactFactory(owner=sdr, account=AccountFactory(owner=UserFactory(role=Role.AE)))

    assert api.as_user(sal).get(f"{CONTACTS}{contact.pk}/").status_code == 404


def test_seller_lists_only_their_contacts(api, sal, sdr):
    owned = ContactFactory(owner=sal)
    at_their_account = ContactFactory(owner=sdr, account=AccountFactory(owner=sal))
    ContactFactory(owner=sdr)
    ContactFactory(owner=None)

    assert result_ids(api.as_user(sal).get(CONTACTS)) == {owned.pk, at_their_account.pk}


def test_seller_sees_no_sdr_leads_even_at_their_account(api, sal, sdr):
    lead = LeadFactory(owner=sdr, account=AccountFactory(owner=sal))
    LeadFactory(owner=None)
    client = api.as_user(sal)

    assert result_ids(client.get(LEADS)) == set()
    assert client.get(lead_url(lead)).status_code == 404


# --- Upsert by email -----------------------------------------------------------------------


def test_posting_a_known_email_in_another_case_updates_that_lead(api, sdr):
    lead = LeadFactory(owner=sdr, email="jane@acme.com", title="")

    response = api.as_user(sdr).post(LEADS, {"email": "Jane@ACME.com", "title": "CTO"}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == lead.pk
    assert Lead.objects.count() == 1
    assert Lead.objects.get().title == "CTO"


def test_posting_a_new_email_creates_a_lead(api, sdr):
    LeadFactory(owner=sdr, email="jane@acme.com")

    response = api.as_user(sdr).post(
        LEADS, {"email": "John@Acme.com", "last_name": "Doe", "initial_source": InitialSource.WEBCAST}, format="json"
    )

    assert response.status_code == 201
    assert Lead.objects.count() == 2
    assert Lead.objects.get(pk=response.json()["id"]).email == "john@acme.com"


def test_posting_the_email_of_another_teams_lead_is_a_conflict_and_changes_nothing(api, sdr, other_sdr):
    lead = LeadFactory(owner=sdr, email="jane@acme.com", title="CTO")
    before = stored(Lead, lead.pk)

    response = api.as_user(other_sdr).post(LEADS, {"email": "jane@acme.com", "title": "Intern"}, format="json")

    assert response.status_code == 409
    assert "email" in response.json()["errors"]
    assert stored(Lead, lead.pk) == before
    assert Lead.objects.count() == 1


def test_posting_the_email_of_a_teammates_lead_is_a_conflict(api, sdr, teammate):
    lead = LeadFactory(owner=sdr, email="jane@acme.com", title="CTO")

    response = api.as_user(teammate).post(LEADS, {"email": "JANE@acme.com", "title": "Intern"}, format="json")

    assert response.status_code == 409
    assert Lead.objects.get(pk=lead.pk).title == "CTO"


def test_upsert_with_another_source_keeps_the_initial_source_and_sets_the_lead_source(api, sdr):
    lead = LeadFactory(owner=sdr, email="jane@acme.com", initial_source=InitialSource.WEBCAST)

    response = api.as_user(sdr).post(
        LEADS, {"email": "jane@acme.com", "initial_source": InitialSource.CONTACT_REQUEST}, format="json"
    )

    assert response.status_code == 200
    stored_lead = Lead.objects.get(pk=lead.pk)
    assert stored_lead.initial_source == InitialSource.WEBCAST
    assert stored_lead.lead_source == InitialSource.CONTACT_REQUEST


@pytest.mark.parametrize(("given", "expected"), [("JOHN SMITH", "John Smith"), ("john smith", "John Smith")])
def test_posted_names_are_stored_capitalised(api, sdr, given, expected):
    response = api.as_user(sdr).post(
        LEADS,
        {"email": "js@acme.com", "first_name": given, "last_name": given, "initial_source": InitialSource.WEBCAST},
        format="json",
    )

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == (expected, expected)
    assert response.json()["last_name"] == expected


def test_patched_names_are_stored_capitalised(api, sdr):
    lead = LeadFactory(owner=sdr)

    api.as_user(sdr).patch(lead_url(lead), {"last_name": "VAN DER BERG"}, format="json")

    assert Lead.objects.get(pk=lead.pk).last_name == "Van Der Berg"


# --- Accounts point only at accounts the caller may see ------------------------------------


def test_an_accounts_parent_must_be_an_account_the_caller_may_see(api, ae):
    mine = AccountFactory(owner=ae)
    hidden = AccountFactory(owner=UserFactory(role=Role.AE))
    client = api.as_user(ae)

    hidden_answer = client.patch(f"/api/v1/accounts/{mine.pk}/", {"parent": hidden.pk}, format="json")
    missing_answer = client.patch(f"/api/v1/accounts/{mine.pk}/", {"parent": hidden.pk + 1000}, format="json")

    assert hidden_answer.status_code == missing_answer.status_code == 400
    # The same words for an account one may not see as for one that does not exist.
    assert (hidden_answer.json()["errors"]["parent"][0].replace(str(hidden.pk), "N")
            == missing_answer.json()["errors"]["parent"][0].replace(str(hidden.pk + 1000), "N"))
    mine.refresh_from_db()
    assert mine.parent is None
    own_parent = AccountFactory(owner=ae)
    assert client.patch(f"/api/v1/accounts/{mine.pk}/", {"parent": own_parent.pk}, format="json").status_code == 200


@pytest.mark.parametrize("role", ["sdr", "manager", "ops", "integration", "sal"])
def test_readable_ids_agrees_with_can_read_in_two_queries_at_most(role, sdr, manager, ops, integration, team,
                                                                 django_assert_max_num_queries):
    from leads.models import can_read, readable_ids

    user = {"sdr": sdr, "manager": manager, "ops": ops, "integration": integration,
            "sal": UserFactory(role=Role.SAL)}[role]
    leads = [LeadFactory(owner=sdr), LeadFactory(owner=UserFactory(role=Role.SDR, team=TeamFactory())),
             LeadFactory(owner=None, created_by=integration), LeadFactory(owner=user)]

    with django_assert_max_num_queries(2):  # a manager's teams, then the leads: not one per lead
        found = readable_ids(leads, user)

    assert found == {lead.pk for lead in leads if can_read(lead, user)}
