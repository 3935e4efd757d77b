"""`iqms/` over the API (docs/rules.md §4, §10): booking, changing, listing; bad input answers 400
with a message and writes nothing; other people's meetings are not found."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from opportunities.models import IQM, Disposition
from sdrcrm.models import Role
from tests.conftest import assert_refused, send
from tests.factories import (
    AccountFactory,
    ContactFactory,
    IQMFactory,
    LeadFactory,
    OpportunityFactory,
    SequenceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

IQMS = "/api/v1/iqms/"
START = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
TIMES = {"start": START.isoformat(), "end": (START + timedelta(minutes=30)).isoformat()}
# Token · the scope (a manager's teams) · the page; one to spare. A query per row would show at 30.
MAX_LIST_QUERIES = 4


@pytest.fixture
def matched_lead(sdr):
    """`sdr`'s lead Ada Lovelace, matched to an account (her IQMs are on it)."""
    return LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace", account=AccountFactory())


def post(client, body, url: str = IQMS):
    return send(client, "post", url, body)


def patch(client, iqm, body):
    return send(client, "patch", f"{IQMS}{iqm.pk}/", body)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Booking -------------------------------------------------------------------------------


def test_booking_with_a_lead_answers_the_new_iqm(sdr_api, sdr, matched_lead):
    sequence = SequenceFactory()

    response = post(sdr_api, {"lead": matched_lead.pk, **TIMES, "location": "Zoom", "activity_source": "outbound",
                             "sequence": sequence.pk, "description": "Pre-call notes"})

    assert response.status_code == 201, response.content
    body = response.json()
    iqm = IQM.objects.get()
    assert body["id"] == iqm.pk
    assert body["subject"] == "Ada Lovelace - IQM"
    assert (body["lead"], body["contact"], body["account"]) == (matched_lead.pk, None, matched_lead.account_id)
    assert (body["sdr"], body["booked_by"], body["sequence"]) == (sdr.pk, sdr.pk, sequence.pk)
    assert (body["disposition"], body["activity_source"], body["location"]) == ("scheduled", "outbound", "Zoom")
    assert iqm.start == START


def test_booking_with_a_contact_puts_it_on_the_contacts_account(sdr_api, sdr):
    contact = ContactFactory(owner=sdr, account=AccountFactory())

    response = post(sdr_api, {"contact": contact.pk, **TIMES})

    assert response.status_code == 201, response.content
    assert (response.json()["contact"], response.json()["account"]) == (contact.pk, contact.account_id)


def test_a_manager_books_for_an_sdr_of_the_team(api, sdr, manager, matched_lead):
    client = api.as_user(manager)

    assert_refused(post(client, {"lead": matched_lead.pk, **TIMES}), field="sdr")
    response = post(client, {"lead": matched_lead.pk, **TIMES, "sdr": sdr.pk})

    assert response.status_code == 201, response.content
    assert (response.json()["sdr"], response.json()["booked_by"]) == (sdr.pk, manager.pk)


def test_an_sao_disposition_needs_an_sao_opportunity(sdr_api, sdr, matched_lead):
    stage_zero = OpportunityFactory(account=matched_lead.account, sdr=sdr)
    accepted = OpportunityFactory(account=matched_lead.account, sdr=sdr, stage="discovery",
                                  sales_accepted_date=date(2026, 11, 2))

    body = assert_refused(post(sdr_api, {"lead": matched_lead.pk, **TIMES, "disposition": "sao",
                                         "opportunity": stage_zero.pk}), field="disposition")
    assert body["detail"] == "Disposition SAO needs a linked opportunity that is an SAO (accepted into 1-Discovery)."
    response = post(sdr_api, {"lead": matched_lead.pk, **TIMES, "disposition": "sao", "opportunity": accepted.pk})
    assert response.status_code == 201, response.content


def test_an_opportunity_of_another_account_is_refused(sdr_api, sdr, matched_lead):
    other = OpportunityFactory(sdr=sdr)
    assert_refused(post(sdr_api, {"lead": matched_lead.pk, **TIMES, "opportunity": other.pk}), field="opportunity")
    assert not IQM.objects.exists()


BAD_BODIES = {
    "both lead and contact": ({"contact": 1}, "non_field_errors"),
    "neither lead nor contact": ({"lead": None}, "non_field_errors"),
    "huge lead id": ({"lead": 10**20}, "lead"),
    "lead id as text": ({"lead": "ada"}, "lead"),
    "unknown lead": ({"lead": 2**62}, "lead"),
    "unknown contact": ({"lead": None, "contact": 2**62}, "contact"),
    "end before start": ({"end": (START - timedelta(hours=1)).isoformat()}, "end"),
    "missing start": ({"start": None}, "start"),
    "start not a date": ({"start": "next tuesday"}, "start"),
    "bad disposition": ({"disposition": "maybe"}, "disposition"),
    "bad activity source": ({"activity_source": "carrier pigeon"}, "activity_source"),
    "unknown opportunity": ({"opportunity": 2**62}, "opportunity"),
    "huge opportunity id": ({"opportunity": 10**20}, "opportunity"),
    "unknown sequence": ({"sequence": 2**62}, "sequence"),
    "unknown sdr": ({"sdr": 2**62}, "sdr"),
    "sdr as a list": ({"sdr": [1]}, "sdr"),
    "location too long": ({"location": "x" * 256}, "location"),
    "NUL in the notes": ({"description": "a\x00b"}, "description"),
    "start in year 9999": ({"start": "9999-12-31T23:59:59-05:00", "end": "9999-12-31T23:59:59-05:00"}, None),
}


@pytest.mark.parametrize("change", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_booking_answers_400_with_a_message_and_writes_nothing(sdr_api, matched_lead, change):
    overrides, field = change
    body = {"lead": matched_lead.pk, **TIMES, **overrides}
    body = {key: value for key, value in body.items() if value is not None}

    assert_refused(post(sdr_api, body), field=field)
    assert not IQM.objects.exists()


@pytest.mark.parametrize("text", ['{"lead": ', "[1, 2]", '"lead"', "null", "42"])
def test_a_body_that_is_not_an_object_answers_400(sdr_api, text):
    assert_refused(post(sdr_api, text))


def test_another_teams_lead_answers_400_naming_the_lead(sdr_api, other_sdr):
    body = assert_refused(post(sdr_api, {"lead": LeadFactory(owner=other_sdr).pk, **TIMES}), field="lead")
    assert body["detail"].startswith("No lead with id")
    assert not IQM.objects.exists()


def test_an_opportunity_the_user_cannot_see_answers_400(sdr_api, matched_lead):
    hidden = OpportunityFactory(account=matched_lead.account)  # owned by an AE, credited to another SDR
    assert_refused(post(sdr_api, {"lead": matched_lead.pk, **TIMES, "opportunity": hidden.pk}), field="opportunity")


def test_a_teammates_lead_is_read_only_403(sdr_api, teammate):
    response = post(sdr_api, {"lead": LeadFactory(owner=teammate).pk, **TIMES})
    assert_refused(response, status=403)
    assert not IQM.objects.exists()


def test_booking_needs_credentials(api, matched_lead):
    assert post(api, {"lead": matched_lead.pk, **TIMES}).status_code == 401


# --- Changing ------------------------------------------------------------------------------


@pytest.fixture
def iqm(sdr, matched_lead):
    return IQMFactory(lead=matched_lead, sdr=sdr, booked_by=sdr)


def test_patch_changes_disposition_notes_and_times(sdr_api, iqm):
    new_start = START + timedelta(days=2)

    response = patch(sdr_api, iqm, {"disposition": "rescheduled", "description": "Moved by the prospect",
                                   "start": new_start.isoformat(), "end": (new_start + timedelta(hours=1)).isoformat()})

    assert response.status_code == 200, response.content
    stored = IQM.objects.get(pk=iqm.pk)
    assert (stored.disposition, stored.description, stored.start) == ("rescheduled", "Moved by the prospect", new_start)
    assert response.json()["disposition"] == "rescheduled"


def test_patch_never_writes_the_subject(sdr_api, iqm):
    response = patch(sdr_api, iqm, {"subject": "Lunch", "location": "Cafe"})
    assert response.status_code == 200
    assert IQM.objects.values_list("subject", "location").get() == ("Ada Lovelace - IQM", "Cafe")


def test_patch_to_sao_without_an_sao_opportunity_is_refused(sdr_api, iqm):
    assert_refused(patch(sdr_api, iqm, {"disposition": "sao"}), field="disposition")
    assert IQM.objects.get(pk=iqm.pk).disposition == Disposition.SCHEDULED


def test_patch_unlinking_the_opportunity_of_an_sao_iqm_is_refused(sdr_api, sdr, iqm):
    accepted = OpportunityFactory(account=iqm.account, sdr=sdr, stage="discovery", sales_accepted_date=date.today())
    assert patch(sdr_api, iqm, {"disposition": "sao", "opportunity": accepted.pk}).status_code == 200

    assert_refused(patch(sdr_api, iqm, {"opportunity": None}), field="disposition")
    assert IQM.objects.get(pk=iqm.pk).opportunity == accepted


@pytest.mark.parametrize("body, field", [
    ({"end": (START - timedelta(days=1)).isoformat()}, "end"),
    ({"disposition": "maybe"}, "disposition"),
    ({"opportunity": 10**20}, "opportunity"),
    ({"opportunity": 2**62}, "opportunity"),
    ({"sdr": "me"}, "sdr"),
    ({"start": None}, "start"),
])
def test_a_bad_patch_answers_400_and_changes_nothing(sdr_api, iqm, body, field):
    before = IQM.objects.filter(pk=iqm.pk).values().get()
    assert_refused(patch(sdr_api, iqm, body), field=field)
    assert IQM.objects.filter(pk=iqm.pk).values().get() == before


def test_put_is_not_offered(sdr_api, iqm):
    assert sdr_api.put(f"{IQMS}{iqm.pk}/", {}, format="json").status_code == 405


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch"])
def test_another_sdrs_iqm_is_not_found(api, iqm, other_sdr, teammate, method):
    for stranger in (other_sdr, teammate):  # a teammate reads the lead, not the meeting
        response = getattr(api.as_user(stranger), method)(f"{IQMS}{iqm.pk}/", {"location": "x"}, format="json")
        assert_refused(response, status=404)
    assert IQM.objects.get(pk=iqm.pk).location == ""


def test_huge_and_unknown_ids_in_the_path_are_not_found(sdr_api):
    assert sdr_api.get(f"{IQMS}{10**20}/").status_code == 404
    assert sdr_api.get(f"{IQMS}{2**62}/").status_code == 404


def test_the_opportunity_owner_the_manager_and_ops_read_the_iqm(api, iqm, manager, ops):
    owner = UserFactory(role=Role.AE)
    IQM.objects.filter(pk=iqm.pk).update(opportunity=OpportunityFactory(account=iqm.account, owner=owner))
    for reader in (owner, manager, ops):
        assert api.as_user(reader).get(f"{IQMS}{iqm.pk}/").status_code == 200


# --- Lists ---------------------------------------------------------------------------------


def test_the_list_shows_only_the_users_iqms(sdr_api, sdr, other_sdr):
    mine = IQMFactory(sdr=sdr)
    booked = IQMFactory(booked_by=sdr)
    IQMFactory(sdr=other_sdr)
    assert ids(sdr_api.get(IQMS)) == {mine.pk, booked.pk}


def test_the_list_filters(sdr_api, sdr, teammate, manager, api):
    account = AccountFactory()
    opportunity = OpportunityFactory(account=account, sdr=sdr)
    contact = ContactFactory(owner=sdr)
    first = IQMFactory(sdr=sdr, start=datetime(2026, 11, 2, 9, tzinfo=UTC), opportunity=opportunity)
    second = IQMFactory(sdr=sdr, lead=None, contact=contact,
                        start=datetime(2026, 11, 20, 9, tzinfo=UTC), disposition=Disposition.NO_SHOW)
    theirs = IQMFactory(sdr=teammate, booked_by=sdr, start=datetime(2026, 11, 30, 23, tzinfo=UTC),
                        disposition=Disposition.CANCELLED)

    assert ids(sdr_api.get(f"{IQMS}?sdr=me")) == {first.pk, second.pk}
    assert ids(sdr_api.get(f"{IQMS}?sdr={teammate.pk}")) == {theirs.pk}
    assert ids(sdr_api.get(f"{IQMS}?lead={first.lead_id}")) == {first.pk}
    assert ids(sdr_api.get(f"{IQMS}?contact={contact.pk}")) == {second.pk}
    assert ids(sdr_api.get(f"{IQMS}?opportunity={opportunity.pk}")) == {first.pk}
    assert ids(sdr_api.get(f"{IQMS}?disposition=no_show&disposition=cancelled")) == {second.pk, theirs.pk}
    assert ids(sdr_api.get(f"{IQMS}?start_after=2026-11-20&start_before=2026-11-30")) == {second.pk, theirs.pk}
    assert ids(sdr_api.get(f"{IQMS}?start_before=2026-11-19")) == {first.pk}
    assert ids(api.as_user(manager).get(f"{IQMS}?sdr={teammate.pk}")) == {theirs.pk}


@pytest.mark.parametrize("query, field", [
    ("sdr=someone", "sdr"),
    (f"sdr={10**20}", "sdr"),
    (f"lead={10**20}", "lead"),
    ("opportunity=abc", "opportunity"),
    ("disposition=maybe", "disposition"),
    ("start_after=yesterday", "start"),
    ("ordering=subject", "ordering"),
    ("cursor=garbage", "cursor"),
    ("page_size=0", "page_size"),
])
def test_a_bad_filter_answers_400_with_a_message(sdr_api, query, field):
    body = assert_refused(sdr_api.get(f"{IQMS}?{query}"))
    assert any(key.startswith(field) for key in body["errors"]), body


def test_the_list_pages_by_keyset_newest_start_first(sdr_api, sdr):
    base = datetime(2026, 11, 1, 9, tzinfo=UTC)
    made = [IQMFactory(sdr=sdr, start=base + timedelta(days=n)) for n in range(5)]
    made.append(IQMFactory(sdr=sdr, start=base + timedelta(days=4)))  # a tie on start

    seen: list[int] = []
    url = f"{IQMS}?page_size=2"
    while url:
        page = sdr_api.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]

    expected = sorted(made, key=lambda iqm: (iqm.start, iqm.pk), reverse=True)
    assert seen == [iqm.pk for iqm in expected]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("user_fixture", ["sdr", "manager", "ops"])
def test_a_list_page_takes_the_same_few_queries_for_3_or_30_iqms(
    request, api, sdr, rows, user_fixture, django_assert_max_num_queries
):
    account = AccountFactory()
    opportunity = OpportunityFactory(account=account, sdr=sdr)
    IQMFactory.create_batch(rows, sdr=sdr, booked_by=sdr, account=account, opportunity=opportunity,
                            sequence=SequenceFactory(steps=0))
    client = api.as_user(request.getfixturevalue(user_fixture))

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(IQMS)

    assert len(response.json()["results"]) == rows


def test_the_manager_of_another_team_lists_none_of_the_teams_iqms(api, sdr):
    other_manager = UserFactory(role=Role.SDR_MANAGER, team=TeamFactory())
    IQMFactory(sdr=sdr)
    assert ids(api.as_user(other_manager).get(IQMS)) == set()


def test_the_leads_owner_sees_an_iqm_someone_else_booked_on_their_lead(api, sdr, other_sdr):
    lead = LeadFactory(owner=sdr)
    booked = IQMFactory(lead=lead, sdr=other_sdr, booked_by=other_sdr)
    IQMFactory(sdr=other_sdr, booked_by=other_sdr)  # on someone else's lead: not theirs to see

    ids = [row["id"] for row in api.as_user(sdr).get(IQMS).json()["results"]]

    assert ids == [booked.pk]
