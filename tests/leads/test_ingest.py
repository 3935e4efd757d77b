from __future__ import annotations

import pytest

from leads import people, services
from leads.models import BlockedDomain, InitialSource, Lead, Queue
from sdrcrm.errors import Refused
from tests.factories import LeadFactory

NEW = {"last_name": "Smith", "first_name": "Jane", "initial_source": InitialSource.WEBCAST}


@pytest.mark.django_db
def test_ingest_creates_then_updates_by_email_ignoring_case(sdr):
    first = services.ingest_lead({**NEW, "email": "Jane.Smith@Acme.COM"}, by=sdr)
    second = services.ingest_lead({"email": "jane.smith@acme.com", "title": "CTO"}, by=sdr)

    assert first.created and not second.created
    assert second.lead.pk == first.lead.pk
    assert Lead.objects.count() == 1
    assert Lead.objects.get().title == "CTO"
    assert Lead.objects.get().email == "jane.smith@acme.com"


@pytest.mark.django_db
def test_ingest_keeps_the_initial_source_and_records_the_latest(integration):
    services.ingest_lead({**NEW, "email": "a@acme.com"}, by=integration)
    services.ingest_lead({"email": "A@acme.com", "initial_source": InitialSource.CONTACT_REQUEST}, by=integration)

    lead = Lead.objects.get()
    assert lead.initial_source == InitialSource.WEBCAST
    assert lead.lead_source == InitialSource.CONTACT_REQUEST


@pytest.mark.django_db
def test_initial_source_cannot_be_edited(sdr):
    lead = LeadFactory(owner=sdr, initial_source=InitialSource.WEBCAST)
    with pytest.raises(Refused) as refused:
        people.update_person(lead, {"initial_source": InitialSource.PARTNER}, by=sdr)
    assert refused.value.field == "initial_source"
    assert Lead.objects.get(pk=lead.pk).initial_source == InitialSource.WEBCAST


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "stored"),
    [("JOHN", "John"), ("john smith", "John Smith"), ("JOHN SMITH", "John Smith"), ("McDonald", "McDonald"),
     ("o'neil", "O'Neil"), ("  anne   marie ", "Anne Marie")],
)
def test_names_are_capitalised_when_all_one_case(sdr, given, stored):
    lead = services.ingest_lead({**NEW, "email": "x@acme.com", "first_name": given, "last_name": given}, by=sdr).lead
    assert (lead.first_name, lead.last_name) == (stored, stored)


@pytest.mark.django_db
def test_new_lead_needs_initial_source_and_last_name(sdr):
    with pytest.raises(Refused) as refused:
        services.ingest_lead({"email": "x@acme.com", "last_name": "X"}, by=sdr)
    assert refused.value.field == "initial_source"
    with pytest.raises(Refused) as refused:
        services.ingest_lead({"email": "x@acme.com", "initial_source": InitialSource.WEBCAST}, by=sdr)
    assert refused.value.field == "last_name"
    assert not Lead.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["someone@mailinator.com", "someone@sub.mailinator.com"])
def test_disposable_domains_are_refused(sdr, email):
    with pytest.raises(Refused, match="disposable"):
        services.ingest_lead({**NEW, "email": email}, by=sdr)
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_blocked_domains_are_refused(sdr):
    BlockedDomain.objects.create(domain="spammy.biz")
    with pytest.raises(Refused, match="block list"):
        services.ingest_lead({**NEW, "email": "x@SPAMMY.biz"}, by=sdr)
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_domain_blocked_after_the_block_list_was_cached_is_refused_at_once(sdr):
    services.ingest_lead({**NEW, "email": "x@spammy.biz"}, by=sdr)  # the block list is read and cached
    BlockedDomain.objects.create(domain="spammy.biz")
    with pytest.raises(Refused, match="block list"):
        services.ingest_lead({**NEW, "email": "y@spammy.biz"}, by=sdr)
    BlockedDomain.objects.all().delete()
    assert services.ingest_lead({**NEW, "email": "y@spammy.biz"}, by=sdr).created


@pytest.mark.django_db
def test_an_owner_clears_the_queue_and_a_queue_clears_the_owner(sdr):
    queue = Queue.objects.get(name=Queue.INQUIRY)
    lead = services.ingest_lead({**NEW, "email": "x@acme.com", "queue": queue}, by=sdr).lead
    assert (lead.owner, lead.queue) == (None, queue)

    people.update_person(lead, {"owner": sdr}, by=sdr)
    lead.refresh_from_db()
    assert (lead.owner, lead.queue) == (sdr, None)


@pytest.mark.django_db
def test_an_sdr_may_only_assign_to_themselves(sdr, teammate):
    with pytest.raises(Refused) as refused:
        services.ingest_lead({**NEW, "email": "x@acme.com", "owner": teammate}, by=sdr)
    assert refused.value.field == "owner"


@pytest.mark.django_db
def test_a_manager_assigns_within_their_teams_only(manager, sdr, other_sdr):
    lead = services.ingest_lead({**NEW, "email": "x@acme.com", "owner": sdr}, by=manager).lead
    assert lead.owner == sdr
    with pytest.raises(Refused):
        services.ingest_lead({**NEW, "email": "y@acme.com", "owner": other_sdr}, by=manager)
