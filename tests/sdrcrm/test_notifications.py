"""Notifications in the app: the page, the nav's unread count, and /api/v1/notifications/.
Everyone sees their own; anyone else's is not found."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sdrcrm import notifications
from sdrcrm.models import Notification
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/notifications/"


def notify(user, n: int = 1, read: bool = False, lead=None) -> list[Notification]:
    start = timezone.now() - timedelta(hours=1)
    notes = [Notification.objects.create(user=user, kind="routing", message=f"Note {k} for {user.username}",
                                         lead=lead, read_at=timezone.now() if read else None) for k in range(n)]
    for k, note in enumerate(notes):  # distinct, increasing times: note k is the k-th oldest
        Notification.objects.filter(pk=note.pk).update(created_at=start + timedelta(minutes=k))
    return notes


# --- API ----------------------------------------------------------------------------------

def test_the_list_holds_only_my_notifications_newest_first(api, sdr, teammate):
    mine = notify(sdr, 3)
    notify(teammate, 2)

    results = api.as_user(sdr).get(API).json()["results"]

    assert [r["id"] for r in results] == [n.pk for n in reversed(mine)]
    assert set(results[0]) == {"id", "kind", "channel", "message", "lead", "opportunity", "created_at", "read_at"}


def test_the_list_filters_unread_and_read(api, sdr):
    unread = notify(sdr, 2)
    read = notify(sdr, 1, read=True)
    client = api.as_user(sdr)

    assert {r["id"] for r in client.get(API, {"unread": "true"}).json()["results"]} == {n.pk for n in unread}
    assert {r["id"] for r in client.get(API, {"unread": "false"}).json()["results"]} == {n.pk for n in read}
    assert client.get(API, {"unread": "maybe"}).status_code == 400


def test_the_list_pages_by_keyset(api, sdr):
    notes = notify(sdr, 5)
    client = api.as_user(sdr)

    first = client.get(API, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [n.pk for n in reversed(notes)][:4]


def test_marking_one_read_sets_read_at_once(api, sdr):
    note = notify(sdr)[0]
    client = api.as_user(sdr)

    first = client.post(f"{API}{note.pk}/read/")
    second = client.post(f"{API}{note.pk}/read/")

    assert first.status_code == second.status_code == 200
    assert first.json()["read_at"] is not None and second.json()["read_at"] == first.json()["read_at"]


def test_mark_all_read_marks_only_mine(api, sdr, teammate):
    notify(sdr, 3)
    notify(sdr, 1, read=True)
    theirs = notify(teammate, 2)

    response = api.as_user(sdr).post(f"{API}read-all/")

    assert response.json() == {"marked": 3}
    assert not Notification.objects.filter(user=sdr, read_at__isnull=True).exists()
    assert Notification.objects.filter(pk__in=[n.pk for n in theirs], read_at__isnull=True).count() == 2


@pytest.mark.parametrize("method, suffix", [("get", ""), ("post", "read/")])
def test_someone_elses_notification_is_not_found(api, sdr, manager, method, suffix):
    theirs = notify(sdr)[0]
    # Not even their manager reads them.
    response = getattr(api.as_user(manager), method)(f"{API}{theirs.pk}/{suffix}")
    assert response.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_api_needs_a_login(api):
    assert api.get(API).status_code in (401, 403)


def test_the_list_costs_the_same_few_queries_for_many_rows(api, sdr, django_assert_max_num_queries):
    lead = LeadFactory(owner=sdr)
    notify(sdr, 40, lead=lead)
    client = api.as_user(sdr)

    # token + user, the page of notifications
    with django_assert_max_num_queries(3):
        assert len(client.get(API).json()["results"]) == 40


# --- Page and nav -------------------------------------------------------------------------

def test_the_page_lists_my_notifications_with_a_link_to_the_lead(client, sdr, teammate):
    lead = LeadFactory(owner=sdr)
    notify(sdr, 1, lead=lead)
    notify(teammate, 1)
    client.force_login(sdr)

    page = client.get("/notifications/").content.decode()

    assert f"Note 0 for {sdr.username}" in page and f"/leads/{lead.pk}/" in page
    assert teammate.username not in page


def test_the_page_pages_by_keyset(client, sdr):
    notes = notify(sdr, 55)
    client.force_login(sdr)

    first = client.get("/notifications/")
    cursor = first.context["next_cursor"]
    second = client.get("/notifications/", {"cursor": cursor})

    assert [n.pk for n in first.context["notifications"]] == [n.pk for n in reversed(notes)][:50]
    assert [n.pk for n in second.context["notifications"]] == [n.pk for n in reversed(notes)][50:]
    assert second.context["next_cursor"] is None


def test_a_bad_cursor_falls_back_to_the_first_page(client, sdr):
    client.force_login(sdr)
    response = client.get("/notifications/", {"cursor": "nonsense"}, follow=True)
    assert response.redirect_chain[-1][0] == "/notifications/"
    assert "out of date" in response.content.decode()


def test_the_nav_shows_my_unread_count(client, sdr, teammate):
    notify(sdr, 3)
    notify(sdr, 2, read=True)
    notify(teammate, 7)
    client.force_login(sdr)

    page = client.get("/notifications/").content.decode()

    assert '<span class="badge" title="unread">3<span class="sr-only"> unread</span></span>' in page


def test_the_nav_caps_the_count(client, sdr):
    Notification.objects.bulk_create([Notification(user=sdr, kind="routing", message="x") for _ in range(120)])
    client.force_login(sdr)
    page = client.get("/notifications/").content.decode()
    assert '<span class="badge" title="unread">99+<span class="sr-only"> unread</span></span>' in page


def test_no_badge_without_unread(client, sdr):
    notify(sdr, 2, read=True)
    client.force_login(sdr)
    assert 'title="unread"' not in client.get("/notifications/").content.decode()


def test_mark_all_read_from_the_page(client, sdr):
    notify(sdr, 2)
    client.force_login(sdr)

    response = client.post("/notifications/read-all/", follow=True)

    assert "Marked 2 notifications as read." in response.content.decode()
    assert not Notification.objects.filter(user=sdr, read_at__isnull=True).exists()


def test_mark_all_read_needs_a_post_and_a_csrf_token(sdr):
    notify(sdr, 2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(sdr)

    assert client.get("/notifications/read-all/").status_code == 405
    assert client.post("/notifications/read-all/").status_code == 403
    assert Notification.objects.filter(user=sdr, read_at__isnull=True).count() == 2


def test_the_page_needs_a_login(client):
    assert client.get("/notifications/").status_code == 302


def test_the_page_costs_a_few_queries_for_many_rows(client, sdr, django_assert_max_num_queries):
    notify(sdr, 50, lead=LeadFactory(owner=sdr))
    client.force_login(sdr)

    # session, user, the page of notifications, the unread count; the session save
    # (every request, in a savepoint) takes three more
    with django_assert_max_num_queries(7):
        assert client.get("/notifications/").status_code == 200


def test_the_unread_count_is_not_queried_for_anonymous_visitors(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/login/").status_code == 200


# --- Channels (the lost-deals channel, docs/rules.md §4) --------------------------------------------

def lost_deal(message: str = "Big Co lost") -> Notification:
    return Notification.objects.create(channel="lost-deals", kind="lost_deal", message=message)


def test_managers_and_ops_read_the_lost_deals_channel(api, manager, ops):
    lost_deal()
    for user in (manager, ops):
        response = api.as_user(user).get(API, {"channel": "lost-deals"})
        assert [row["message"] for row in response.json()["results"]] == ["Big Co lost"]


def test_sdrs_do_not_read_channels_and_channel_notes_stay_out_of_inboxes(api, sdr, manager):
    lost_deal()
    assert api.as_user(sdr).get(API, {"channel": "lost-deals"}).json()["results"] == []
    assert api.as_user(manager).get(API).json()["results"] == []  # not in anyone's own list


def test_an_unknown_channel_is_a_clear_400(api, manager):
    response = api.as_user(manager).get(API, {"channel": "gossip"})
    assert response.status_code == 400
    assert "Unknown channel" in str(response.json())


def test_the_page_shows_the_channel_to_a_manager_only(client, manager, sdr):
    lost_deal("Mega Corp lost at 50,000")
    client.force_login(manager)
    assert "Mega Corp lost at 50,000" in client.get("/notifications/", {"channel": "lost-deals"}).content.decode()
    assert "Lost deals channel" in client.get("/notifications/").content.decode()
    client.force_login(sdr)
    page = client.get("/notifications/", {"channel": "lost-deals"}).content.decode()
    assert "Mega Corp" not in page and "Lost deals channel" not in page


def test_every_notification_is_written_with_a_known_kind(sdr):
    from sdrcrm import notifications

    with pytest.raises(ValueError):
        notifications.notify([sdr.pk], "made_up", "never written")
    assert not Notification.objects.exists()
    notifications.notify([sdr.pk, sdr.pk, None], Notification.Kind.ROUTING, "once")
    assert list(Notification.objects.values_list("user", "kind", "message")) == [(sdr.pk, "routing", "once")]


def test_the_notifications_page_names_the_kind_in_words(client, sdr):
    notifications.notify([sdr.pk], Notification.Kind.SLA_BREACH, "SLA breached")
    client.force_login(sdr)
    page = client.get("/notifications/").content.decode()
    assert f'<span class="badge">{Notification.Kind.SLA_BREACH.label}</span>' in page
    assert '<span class="badge">sla_breach</span>' not in page
