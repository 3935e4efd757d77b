"""The global search's narrow table of leads (leads/models/search.py): kept by database
triggers through every kind of write, and read with the same access rule as the leads."""

from __future__ import annotations

import pytest
from django.db.models import F

from leads import erasure, trash
from leads.models import Lead, LeadSearch
from sdrcrm.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def expected() -> set[tuple]:
    """What the table must hold: a row per live lead, its text as the search's haystack."""
    return {(lead.pk, lead.owner_id, lead.created_by_id,
             f"{lead.first_name} {lead.last_name} {lead.email} {lead.company} {lead.phone}".upper())
            for lead in Lead.objects.all()}


def held() -> set[tuple]:
    return set(LeadSearch.objects.values_list("lead_id", "owner_id", "created_by_id", "haystack"))


def test_every_write_to_a_lead_keeps_its_search_row(sdr, ops, teammate):
    sofia = LeadFactory(owner=sdr, first_name="Sofia", last_name="Santos", company="Initech", phone="+1 415")
    other = LeadFactory(owner=None, created_by=UserFactory(role=Role.INTEGRATION))
    assert held() == expected() and len(held()) == 2

    sofia.last_name, sofia.owner = "Santos-Reyes", teammate  # a save() of the whole row
    sofia.save()
    Lead.objects.filter(pk=other.pk).update(company=F("company"), email="new@globex.com")  # a queryset update
    Lead.objects.bulk_create([LeadFactory.build(email=f"bulk{n}@hooli.com", last_name="Bulk") for n in range(3)])
    assert held() == expected() and len(held()) == 5

    Lead.objects.filter(pk=sofia.pk).update(score=F("score") + 10, status="mql")  # no searched field changed
    assert held() == expected()

    trash.delete_record(sofia, by=ops)
    assert sofia.pk not in {row[0] for row in held()} and held() == expected()
    trash.restore_record(trash.kind_of("lead"), sofia.pk, by=ops)
    assert sofia.pk in {row[0] for row in held()} and held() == expected()

    other.delete()  # a hard delete (spam deletion, the purge)
    assert held() == expected() and len(held()) == 4


def test_an_erased_person_leaves_no_clear_text_in_the_search_table(sdr, ops):
    lead = LeadFactory(owner=sdr, first_name="Sofia", last_name="Santos", email="sofia@initech.com")
    erasure.erase_person(lead.email, requested_by="Sofia, by email", by=ops)
    haystack = LeadSearch.objects.get(lead_id=lead.pk).haystack
    assert "SOFIA" not in haystack and "SANTOS" not in haystack and held() == expected()


ROLES = [Role.OPS, Role.SDR_MANAGER, Role.SDR, Role.BDR, Role.SAL, Role.AE, Role.INTEGRATION]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("with_team", [True, False])
def test_the_search_tables_access_rule_is_the_leads_own(role, with_team):
    """LeadSearch.visible_to and .editable_by, written by owners' ids, let each role read
    exactly the leads PersonQuerySet.visible_to and .editable_by do."""
    team, other_team = TeamFactory(), TeamFactory()
    user = UserFactory(role=role, team=team if with_team and role != Role.SDR_MANAGER else None)
    if role == Role.SDR_MANAGER and with_team:
        team.manager = user
        team.save()
    teammate = UserFactory(role=Role.SDR, team=team)
    stranger = UserFactory(role=Role.SDR, team=other_team)
    loner = UserFactory(role=Role.BDR, team=None)
    for owner in (user, teammate, stranger, loner, None):
        LeadFactory(owner=owner, created_by=user if owner is None else None)
        LeadFactory(owner=owner)
    for rule in ("visible_to", "editable_by"):
        assert set(getattr(LeadSearch.objects, rule)(user).values_list("lead_id", flat=True)) == set(
            getattr(Lead.objects, rule)(user).values_list("pk", flat=True)), rule
