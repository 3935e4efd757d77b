"""The opportunity list's CSV export: the page's filters and access, every row."""

from __future__ import annotations

import pytest

from opportunities.models import Stage
from tests.conftest import exported
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_the_opportunity_export_follows_mine_and_stage(client, sdr):
    credited = OpportunityFactory(sdr=sdr, name="Initech - New", iacv=15000)
    OpportunityFactory(sdr=sdr, stage=Stage.DISCOVERY)
    OpportunityFactory()  # someone else's
    client.force_login(sdr)

    rows = exported(client, f"/opportunities/export.csv?mine=on&stage={Stage.PENDING_ACCEPTANCE}")

    assert [(int(row["id"]), row["name"], row["IACV (USD)"], row["SDR credited"]) for row in rows] == [
        (credited.pk, "Initech - New", "15000.00", sdr.username)]
    page = client.get("/opportunities/?mine=on").content.decode()
    assert 'href="/opportunities/export.csv?mine=on">Export as CSV</a>' in page
