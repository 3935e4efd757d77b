"""Imports of contacts, and the campaign an import tags (leads/imports.py, docs/rules.md §5.3):
contacts are upserted by email through the contact services and put on the account their
email domain or company matches; every person of a campaign's list is put on the campaign
once, however often the list is imported."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.models import CampaignMember, Contact, Import, Lead
from tests.factories import AccountFactory, ContactFactory

from .test_imports import GOOD, URL, csv_bytes, upload

pytestmark = pytest.mark.django_db

CONTACT_HEADER = ["Email", "First name", "Last name", "Title", "Company", "Country", "Lead source"]


def run(api, user, content: bytes, **fields) -> Import:
    checked = upload(api, user, content, **fields)
    assert checked.status_code == 201, checked.content
    ran = api.as_user(user).post(f"{URL}{checked.json()['record']['id']}/run/")
    assert ran.status_code == 200, ran.content
    return Import.objects.get(pk=checked.json()["record"]["id"])


def test_contacts_are_upserted_by_email_onto_the_account_they_match_and_again_change_nothing(api, ops):
    initech = AccountFactory(name="Initech", domain="initech.com")
    known = ContactFactory(email="bo@initech.com", first_name="Bo", last_name="Ray", title="Engineer",
                           account=initech, initial_source="conference")
    content = csv_bytes([
        ["cy@initech.com", "Cy", "Moss", "CTO", "Initech", "US", "conference"],     # new, on Initech by domain
        ["bo@initech.com", "Bo", "Ray", "VP Engineering", "Initech", "US", ""],      # known: title changes
        ["di@umbrella.com", "Di", "", "", "", "US", "conference"],                    # new without a last name
        ["ed@globex.com", "Ed", "Ng", "", "Globex", "US", "webcast"],                  # new, no account matches
    ], header=CONTACT_HEADER)

    checked = upload(api, ops, content, kind="contact").json()

    assert (checked["record"]["kind"], checked["record"]["created"], checked["record"]["updated"],
            checked["record"]["rejected"]) == ("contact", 2, 1, 1)
    assert checked["problems"] == [{"line": 4, "errors": {"Last name": ["A new contact needs its last name."]}}]
    assert Contact.objects.count() == 1  # the dry run wrote nothing

    ran = api.as_user(ops).post(f"{URL}{checked['record']['id']}/run/").json()

    assert (ran["state"], ran["created"], ran["updated"], ran["rejected"]) == ("finished", 2, 1, 1)
    cy = Contact.objects.get(email="cy@initech.com")
    assert (cy.account, cy.full_name, cy.title, cy.initial_source, cy.created_by) == (
        initech, "Cy Moss", "CTO", "conference", ops)
    assert Contact.objects.get(email="ed@globex.com").account is None
    known.refresh_from_db()
    assert (known.title, Contact.objects.filter(email="bo@initech.com").count()) == ("VP Engineering", 1)
    assert not Lead.objects.exists()  # a contacts' file makes no leads

    again = run(api, ops, content, kind="contact")

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 1)
    assert Contact.objects.count() == 3


def test_a_deleted_contacts_email_is_refused_in_words(api, ops):
    gone = ContactFactory(email="gone@initech.com", initial_source="conference")
    Contact.all_objects.filter(pk=gone.pk).update(deleted_at=timezone.now())

    checked = upload(api, ops, csv_bytes([["gone@initech.com", "Go", "Ne", "", "", "US", "webcast"]],
                                         header=CONTACT_HEADER), kind="contact").json()

    assert "was deleted on" in checked["problems"][0]["errors"]["Email"][0]
    assert Contact.all_objects.filter(email="gone@initech.com").count() == 1


def test_every_person_of_a_campaigns_list_is_put_on_it_once(api, ops):
    second = ["bo@initech.com", "bo", "ray", "", "Initech", "US", "", "webcast", "no", ""]
    content = csv_bytes([GOOD, second])

    first = run(api, ops, content, campaign="  KubeCon   2026 ")

    assert first.campaign == "KubeCon 2026" and first.created == 2
    members = CampaignMember.objects.filter(campaign="KubeCon 2026")
    assert sorted(members.values_list("lead__email", flat=True)) == ["ana@initech.com", "bo@initech.com"]
    assert set(members.values_list("source_import", flat=True)) == {first.pk}
    # The same list again: nothing changes, nobody is on the campaign twice.
    run(api, ops, content, campaign="KubeCon 2026")
    assert members.count() == 2
    # Another campaign's list with one of them: on both now.
    run(api, ops, csv_bytes([GOOD]), campaign="Webinar: platform teams")
    assert set(CampaignMember.objects.filter(lead__email="ana@initech.com").values_list("campaign", flat=True)) == {
        "KubeCon 2026", "Webinar: platform teams"}
    # Without a campaign, nobody is put on one.
    run(api, ops, csv_bytes([["cy@initech.com", "cy", "moss", "", "", "US", "", "webcast", "no", ""]]))
    assert not CampaignMember.objects.filter(lead__email="cy@initech.com").exists()


def test_contacts_on_a_campaign_and_bad_kinds_or_campaigns_are_refused(api, ops):
    content = csv_bytes([["cy@initech.com", "Cy", "Moss", "CTO", "Initech", "US", "conference"]],
                        header=CONTACT_HEADER)
    record = run(api, ops, content, kind="contact", campaign="Field event Paris")
    assert CampaignMember.objects.get().contact == Contact.objects.get(email="cy@initech.com")
    assert record.kind == "contact"

    wrong_kind = upload(api, ops, content, kind="account")
    assert wrong_kind.status_code == 400 and "kind" in wrong_kind.json()["errors"]
    too_long = upload(api, ops, content, campaign="x" * 101)
    assert too_long.status_code == 400 and "campaign" in too_long.json()["errors"]


def test_the_page_uploads_contacts_for_a_campaign(client, ops):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(ops)
    content = csv_bytes([["cy@initech.com", "Cy", "Moss", "CTO", "Initech", "US", "conference"]],
                        header=CONTACT_HEADER)
    response = client.post("/leads/imports/", {"file": SimpleUploadedFile("fair.csv", content), "kind": "contact",
                                               "campaign": "Field event Paris"}, follow=True)

    page = response.content.decode()
    assert response.status_code == 200 and "Contacts for the campaign <strong>Field event Paris</strong>" in page
    record = Import.objects.get()
    finished = client.post(f"/leads/imports/{record.pk}/run/", follow=True).content.decode()
    assert CampaignMember.objects.filter(campaign="Field event Paris", contact__email="cy@initech.com").exists()
    # The finished import links to its contacts on the campaign, and the contact list filters by it.
    assert 'href="/contacts/?campaign=Field%20event%20Paris"' in finished
    ContactFactory(email="other@initech.com", initial_source="conference")
    listed = client.get("/contacts/?campaign=Field event Paris").content.decode()
    assert "cy@initech.com" in listed and "other@initech.com" not in listed


def test_the_lead_list_shows_a_campaigns_leads_linked_from_its_import(api, ops, client, django_assert_max_num_queries):
    record = run(api, ops, csv_bytes([GOOD, ["bo@initech.com", "bo", "ray", "", "", "US", "", "webcast", "no", ""]]),
                 campaign="KubeCon 2026")
    run(api, ops, csv_bytes([["cy@initech.com", "cy", "moss", "", "", "US", "", "webcast", "no", ""]]))
    client.force_login(ops)

    detail = client.get(f"/leads/imports/{record.pk}/").content.decode()
    assert 'href="/leads/?campaign=KubeCon%202026"' in detail
    with django_assert_max_num_queries(12):
        listed = client.get("/leads/?campaign=KubeCon 2026").content.decode()

    assert "ana@initech.com" in listed and "bo@initech.com" in listed and "cy@initech.com" not in listed
    assert "cy@initech.com" in client.get("/leads/").content.decode()
