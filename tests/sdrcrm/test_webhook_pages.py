"""The webhooks pages (/webhooks/, sdrcrm/webhook_pages.py): ops list the endpoints with their
last delivery, make, change and turn off an endpoint (a bad URL is refused in words, on its
field), and page through an endpoint's deliveries, newest first, with "Send again"; the
others are refused, as on every ops page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sdrcrm import config, webhooks
from sdrcrm.models import Role, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_endpoint(url: str = "https://hooks.example.com/crm", **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, secret="s" * 32, events=["lead.created"], **fields)


def deliveries_for(endpoint: WebhookEndpoint, count: int, **fields) -> list[WebhookDelivery]:
    events = WebhookEvent.objects.bulk_create(WebhookEvent(kind="lead.created", payload={"id": n})
                                              for n in range(count))
    return WebhookDelivery.objects.bulk_create(WebhookDelivery(event=event, endpoint=endpoint, **fields)
                                               for event in events)


def test_only_ops_open_the_webhooks_pages_and_the_menu_shows_them_only_to_ops(client, ops, sdr, manager):
    endpoint = make_endpoint()
    [delivery] = deliveries_for(endpoint, 1, state="failed")
    pages = ["/webhooks/", "/webhooks/new/", f"/webhooks/{endpoint.pk}/", f"/webhooks/{endpoint.pk}/edit/"]
    posts = [f"/webhooks/{endpoint.pk}/active/", f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/",
             "/webhooks/new/"]
    for user in (sdr, manager, UserFactory(role=Role.AE), UserFactory(role=Role.INTEGRATION)):
        client.force_login(user)
        for path in pages:
            refused = client.get(path)
            assert refused.status_code == 403, (user.role, path)
            assert "<h1>Not allowed</h1>" in (html := refused.content.decode())  # the styled 403 page
            # (an integration user is refused every page, in words of its own)
            assert "Webhooks are managed by Sales-Dev Ops." in html or user.role == Role.INTEGRATION
        for path in posts:
            assert client.post(path, {"active": "off"}).status_code == 403, (user.role, path)
        assert 'href="/webhooks/"' not in client.get("/leads/").content.decode()
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.active and delivery.state == "failed" and WebhookEndpoint.objects.count() == 1

    client.logout()
    assert client.get("/webhooks/").status_code == 302  # to the login page
    client.force_login(ops)
    for path in pages:
        assert client.get(path).status_code == 200, path
    assert 'href="/webhooks/"' in client.get("/leads/").content.decode()
    assert client.get("/webhooks/999999/").status_code == 404
    assert client.post(f"/webhooks/{endpoint.pk}/deliveries/999999/resend/").status_code == 404
    assert client.get(f"/webhooks/{endpoint.pk}/active/").status_code == 405


def test_the_list_shows_each_endpoints_events_state_and_last_delivery(client, ops):
    quiet = make_endpoint("https://quiet.example.com/hooks", active=False)
    busy = make_endpoint("https://busy.example.com/hooks")
    busy.events = ["lead.assigned", "lead.created"]
    busy.save()
    deliveries_for(busy, 2, state="delivered")
    deliveries_for(busy, 1, state="failed", last_attempt_at=timezone.now())  # the latest
    client.force_login(ops)

    page = client.get("/webhooks/").content.decode()

    busy_row = page[page.index(f'data-endpoint="{busy.pk}"'):]
    busy_row = busy_row[:busy_row.index("</tr>")]
    assert "lead.assigned" in busy_row and "lead.created" in busy_row and ">failed<" in busy_row
    quiet_row = page[page.index(f'data-endpoint="{quiet.pk}"'):]
    quiet_row = quiet_row[:quiet_row.index("</tr>")]
    assert ">off<" in quiet_row and "none yet" in quiet_row


def test_ops_create_an_endpoint_with_the_secret_made_up_in_the_form(client, ops):
    client.force_login(ops)
    form = client.get("/webhooks/new/")
    secret = form.context["form"]["secret"].value()
    assert len(secret) >= 32 and secret in form.content.decode()  # shown here, for ops to copy

    response = client.post("/webhooks/new/", {"url": "https://hooks.example.com/crm",
                                               "events": ["lead.assigned", "lead.created"], "secret": secret,
                                               "description": "Marketing automation", "active": "on"})

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert (endpoint.url, endpoint.events, endpoint.secret, endpoint.active, endpoint.created_by) == (
        "https://hooks.example.com/crm", ["lead.assigned", "lead.created"], secret, True, ops)
    assert "lead.assigned" in config.get("webhook_kinds")  # every process sees it wanted
    assert secret not in client.get(f"/webhooks/{endpoint.pk}/").content.decode()  # never shown again


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:8000/hooks", "'127.0.0.1' is a private or local address; webhooks go to public ones."),
    ("ftp://example.com/hooks", "A webhook URL is http:// or https:// with a host."),
    ("not a url", "Enter a valid URL."),
])
def test_a_bad_url_is_refused_in_words_on_its_field_and_nothing_is_saved(client, ops, settings, url, message):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(ops)

    response = client.post("/webhooks/new/", {"url": url, "events": ["lead.created"], "secret": "x" * 32,
                                              "active": "on"})

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [message]
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_no_event_or_a_short_secret_is_refused_in_words(client, ops):
    client.force_login(ops)
    response = client.post("/webhooks/new/", {"url": "https://hooks.example.com/crm", "secret": "short"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["events"] == ["Pick at least one event."]
    assert "at least 16 characters" in errors["secret"][0]
    assert not WebhookEndpoint.objects.exists()


def test_an_edit_keeps_the_secret_left_empty_and_turning_off_stops_new_events(client, ops):
    endpoint = make_endpoint()
    client.force_login(ops)

    response = client.post(f"/webhooks/{endpoint.pk}/edit/", {
        "url": "https://hooks.example.com/v2", "events": ["lead.assigned"], "secret": "", "active": "on"})

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.secret) == ("https://hooks.example.com/v2", ["lead.assigned"],
                                                                "s" * 32)
    assert client.post(f"/webhooks/{endpoint.pk}/active/", {"active": "off"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active is False and "lead.assigned" not in config.get("webhook_kinds")
    webhooks.emit("lead.assigned", [{"id": 1}])
    assert not WebhookEvent.objects.exists()
    client.post(f"/webhooks/{endpoint.pk}/active/", {"active": "on"})
    endpoint.refresh_from_db()
    assert endpoint.active is True


def test_the_deliveries_are_newest_first_keyset_paged_in_a_bounded_number_of_queries(client, ops):
    endpoint = make_endpoint()
    other = make_endpoint("https://other.example.com/hooks")
    deliveries_for(other, 3)
    rows = deliveries_for(endpoint, 120, state="failed", attempts=3, last_status=500,
                          last_response="try later", last_attempt_at=timezone.now())
    client.force_login(ops)
    client.get(f"/webhooks/{endpoint.pk}/")  # caches warmed (session, configuration)

    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(f"/webhooks/{endpoint.pk}/")
    seen = [d.pk for d in first.context["deliveries"]]
    cursor = first.context["next_cursor"]
    while cursor:
        with CaptureQueriesContext(connection) as page_queries:
            page = client.get(f"/webhooks/{endpoint.pk}/", {"cursor": cursor})
        assert len(page_queries) == len(first_queries)  # a deep page costs what the first does
        seen += [d.pk for d in page.context["deliveries"]]
        cursor = page.context["next_cursor"]

    assert len(first_queries) <= 8  # session, user, endpoint, one page of deliveries with their events, …
    assert seen == sorted((row.pk for row in rows), reverse=True)  # each once, newest first, none of `other`'s
    html = first.content.decode()
    assert "HTTP 500" in html and "try later" in html and str(rows[-1].event_id) in html
    assert html.count("Send again</button>") == 50
    bad = client.get(f"/webhooks/{endpoint.pk}/", {"cursor": "garbage"}, follow=True)
    assert bad.redirect_chain and "out of date" in bad.content.decode()


def test_send_again_from_the_page_queues_a_new_try_with_the_same_event(
        client, ops, monkeypatch, django_capture_on_commit_callbacks):
    endpoint = make_endpoint()
    [delivery] = deliveries_for(endpoint, 1, state="failed", attempts=3, last_status=500)
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(webhooks, "enqueue", lambda task, *args, **kwargs: sent.append((task, args)))
    client.force_login(ops)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")

    assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert sent == [("sdrcrm.tasks.deliver_webhook", (delivery.pk,))]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.event.kind) == ("pending", "lead.created")
    assert delivery.next_attempt_at <= timezone.now()
    assert "being sent again, with the same event id" in client.get(response["Location"]).content.decode()
    # Another endpoint's delivery is not this endpoint's to resend.
    assert client.post(f"/webhooks/{make_endpoint().pk}/deliveries/{delivery.pk}/resend/").status_code == 404
