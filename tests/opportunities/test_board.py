"""The opportunities board (kanban): a column per open stage with its count and IACV, the
cards the user may see, moves through change_stage with refusals shown."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities import services
from opportunities.models import Opportunity, Stage
from sdrcrm.models import Role
from tests.factories import AccountFactory, OpportunityFactory, UserFactory
from tests.opportunities.conftest import sao_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def ae(db):
    return UserFactory(role=Role.AE, first_name="Ada", last_name="Seller")


def columns(user, **filters):
    return {column.stage: column for column in services.board(Opportunity.objects.visible_to(user)
                                                                  .filter(**filters), user)}


def test_a_column_per_open_stage_with_its_count_and_iacv(ae):
    for iacv in (1000, 2500):
        OpportunityFactory(owner=ae, stage=Stage.PENDING_ACCEPTANCE, iacv=Decimal(iacv))
    OpportunityFactory(owner=ae, stage=Stage.DISCOVERY, iacv=Decimal(7000))
    OpportunityFactory(owner=ae, stage=Stage.CLOSED_WON, iacv=Decimal(99000))  # closed: not on the board

    board = columns(ae)

    assert list(board) == [Stage.PRE_OPPORTUNITY, Stage.PENDING_ACCEPTANCE, Stage.DISCOVERY, Stage.SCOPING,
                           Stage.TECHNICAL_EVALUATION, Stage.PROPOSAL, Stage.NEGOTIATING, Stage.AWAITING_SIGNATURE]
    assert (board[Stage.PENDING_ACCEPTANCE].count, board[Stage.PENDING_ACCEPTANCE].iacv) == (2, Decimal(3500))
    assert (board[Stage.DISCOVERY].count, board[Stage.DISCOVERY].iacv) == (1, Decimal(7000))
    assert (board[Stage.SCOPING].count, board[Stage.SCOPING].iacv, board[Stage.SCOPING].cards) == (0, 0, [])


def test_a_column_shows_the_longest_waiting_first_up_to_its_cap(ae, monkeypatch):
    monkeypatch.setattr(services, "BOARD_CARDS", 2)
    now = timezone.now()
    oldest, older, _newest = (OpportunityFactory(owner=ae, stage=Stage.DISCOVERY,
                                                 stage_changed_at=now - timedelta(days=d)) for d in (30, 20, 10))
    column = columns(ae)[Stage.DISCOVERY]
    assert [card.pk for card in column.cards] == [oldest.pk, older.pk]
    assert (column.count, column.more) == (3, 1)


def test_two_queries_however_many_cards(ae, django_assert_num_queries):
    for stage in (Stage.PENDING_ACCEPTANCE, Stage.DISCOVERY, Stage.PROPOSAL):
        for _ in range(5):
            OpportunityFactory(owner=ae, stage=stage, account=AccountFactory())
    with django_assert_num_queries(2):
        board = columns(ae)
        [(card.account.name, card.owner.username) for column in board.values() for card in column.cards]


def test_the_moves_offered_are_the_users(ae, sdr):
    pending = OpportunityFactory(owner=ae, sdr=sdr, stage=Stage.PENDING_ACCEPTANCE)
    owner_moves = [stage for stage, _ in columns(ae)[Stage.PENDING_ACCEPTANCE].cards[0].moves]
    sdr_moves = [stage for stage, _ in columns(sdr, pk=pending.pk)[Stage.PENDING_ACCEPTANCE].cards[0].moves]
    assert Stage.DISCOVERY in owner_moves
    assert Stage.DISCOVERY not in sdr_moves  # accepting is the AE's call


def test_the_board_page_moves_a_card_and_comes_back(client, ae):
    deal = sao_ready(owner=ae, name="Globex - 300 seats", account=AccountFactory(name="Globex", owner=ae))
    client.force_login(ae)

    page = client.get("/opportunities/board/?mine=on").content.decode()
    assert "Globex - 300 seats" in page and "1 · IACV $20,000" in page
    response = client.post(f"/opportunities/{deal.pk}/stage/",
                           {"stage": "discovery", "next": "/opportunities/board/?mine=on"}, follow=True)

    assert response.redirect_chain[-1][0] == "/opportunities/board/?mine=on"
    assert "Stage is now 1-Discovery." in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).stage == Stage.DISCOVERY


def test_a_refused_move_on_the_board_says_why(client, ae):
    deal = OpportunityFactory(owner=ae, stage=Stage.PENDING_ACCEPTANCE)  # not SAO-ready: no business problem
    client.force_login(ae)

    response = client.post(f"/opportunities/{deal.pk}/stage/",
                           {"stage": "discovery", "next": "/opportunities/board/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/opportunities/board/"
    assert 'class="msg error"' in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).stage == Stage.PENDING_ACCEPTANCE


def test_a_move_never_returns_to_another_site(client, ae):
    deal = sao_ready(owner=ae)
    client.force_login(ae)
    response = client.post(f"/opportunities/{deal.pk}/stage/", {"stage": "discovery", "next": "https://evil.example/"})
    assert response["Location"] == f"/opportunities/{deal.pk}/"


def test_the_board_shows_only_what_the_user_may_see(client, ae):
    OpportunityFactory(name="Someone else's deal")
    client.force_login(ae)
    assert "Someone else's deal" not in client.get("/opportunities/board/").content.decode()
