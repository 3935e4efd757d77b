"""Bulk actions from the lead list's page: ticked rows or every lead matching the filter,
the action's page with each row's outcome, its progress part for htmx, and its access."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leads import bulk_actions
from leads.models import BulkAction, Lead, Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_list_offers_a_tick_per_row_and_the_actions(client, manager, sdr):
    lead = LeadFactory(owner=sdr)
    client.force_login(manager)
    page = client.get("/leads/").content.decode()
    assert f'name="lead" value="{lead.pk}"' in page
    assert 'action="/leads/bulk/"' in page and 'name="all_matching"' in page
    assert "Assign owner" in page and "Change status" in page and "Enrol in a sequence" in page


def test_ticked_rows_are_reassigned_and_the_actions_page_lists_each_row(client, manager, sdr, teammate):
    leads = LeadFactory.create_batch(3, owner=sdr)
    client.force_login(manager)

    response = client.post("/leads/bulk/", {"kind": "assign", "owner": teammate.pk,
                                            "lead": [lead.pk for lead in leads]}, follow=True)

    page = response.content.decode()
    bulk = BulkAction.objects.get()
    assert response.redirect_chain[-1][0] == f"/bulk/{bulk.pk}/"
    assert "Finished: 3 of 3" in page and "3 done, 0 refused" in page
    assert all(lead.email in page and lead.full_name in page for lead in leads)
    assert Lead.objects.filter(owner=teammate).count() == 3


def test_every_lead_matching_the_filter_is_taken_not_only_the_page(client, ops, settings):
    settings.BULK_ACTION_INLINE = 100
    mqls = LeadFactory.create_batch(3, status=Status.MQL)
    raw = LeadFactory(status=Status.RAW)
    client.force_login(ops)

    client.post("/leads/bulk/", {"kind": "status", "status": "recycle", "reason": "evaluating",
                                 "all_matching": "1", "filter": "status=mql"})

    assert sorted(BulkAction.objects.get().record_ids) == sorted(lead.pk for lead in mqls)
    assert Lead.objects.get(pk=raw.pk).status == Status.RAW


def test_a_refused_action_comes_back_to_the_list_with_the_reason(client, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    client.force_login(sdr)
    response = client.post("/leads/bulk/", {"kind": "assign", "owner": teammate.pk, "lead": [lead.pk],
                                            "filter": "status=mql"}, follow=True)
    assert response.redirect_chain[-1][0] == "/leads/?status=mql"
    assert "Nothing done. Only managers and ops assign leads in bulk." in response.content.decode()


def test_too_many_matching_leads_are_told_not_cut(client, ops, settings):
    settings.BULK_ACTION_LIMIT = 2
    LeadFactory.create_batch(3, status=Status.MQL)
    client.force_login(ops)
    response = client.post("/leads/bulk/", {"kind": "status", "status": "recycle", "reason": "evaluating",
                                            "all_matching": "1", "filter": ""}, follow=True)
    assert "At most 2 leads at once; narrow the filter." in response.content.decode()
    assert not BulkAction.objects.exists()


def test_an_action_page_is_its_authors_and_ops_only(client, manager, sdr, teammate, ops):
    bulk = bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"},
                              [LeadFactory(owner=sdr).pk], sdr)
    client.force_login(teammate)
    assert client.get(f"/bulk/{bulk.pk}/").status_code == 404
    client.force_login(ops)
    assert client.get(f"/bulk/{bulk.pk}/").status_code == 200


def test_htmx_polls_the_progress_part_while_it_runs_and_stops_when_finished(client, ops, sdr):
    running = BulkAction.objects.create(kind="assign", params={"owner": sdr.pk}, summary="Assign", by=ops, total=4,
                                        record_ids=[1, 2, 3, 4], state="running", results=[[1, "done", "Given."]])
    client.force_login(ops)

    part = client.get(f"/bulk/{running.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert part.lstrip().startswith('<section class="card" id="bulk-progress"')
    assert 'hx-trigger="every 1s"' in part and 'value="1"' in part and "Running: 1 of 4" in part

    BulkAction.objects.filter(pk=running.pk).update(state="finished")
    assert "hx-trigger" not in client.get(f"/bulk/{running.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_the_action_page_reads_its_rows_in_the_same_queries_for_1_or_30(client, ops):
    client.force_login(ops)
    counts = []
    for size in (1, 30):
        leads = LeadFactory.create_batch(size, status=Status.MQL)
        bulk = bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"},
                                  [lead.pk for lead in leads], ops)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/bulk/{bulk.pk}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_bulk_form_needs_its_csrf_token(manager, sdr, teammate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    lead = LeadFactory(owner=sdr)
    assert client.post("/leads/bulk/", {"kind": "assign", "owner": teammate.pk, "lead": [lead.pk]}).status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner == sdr


def test_ids_that_are_no_ids_are_left_out_not_a_crash(client, ops):
    lead = LeadFactory(status=Status.MQL)
    client.force_login(ops)
    response = client.post("/leads/bulk/", {"kind": "status", "status": "recycle", "reason": "evaluating",
                                            "lead": ["²", str(2**63), "abc", str(lead.pk)]})
    assert response.status_code == 302
    assert BulkAction.objects.get().record_ids == [lead.pk]
