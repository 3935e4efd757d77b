"""The webhooks pages in a real Chromium: ops find a delivery that failed (a local receiver
answered 500 until the delivery gave up), send it again once the receiver answers 200, and
see it delivered, with the same event id; screenshots at 1280 and 390 px, and axe on the
pages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sdrcrm import webhooks
from sdrcrm.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.sdrcrm.test_webhooks import Receiver

from .conftest import login, screenshots
from .test_accessibility import violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_ops_send_a_failed_delivery_again_and_see_it_delivered(page, live_server, ops, receiver):
    receiver.statuses = [500]
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s" * 32,
                                              events=["lead.created", "lead.assigned"], description="Marketing tool")
    # An event of yesterday whose last try (this one) still got a 500: the delivery gives up.
    event = WebhookEvent.objects.create(kind="lead.created", payload={"id": 7, "email": "ana@initech.com"},
                                        created_at=timezone.now() - timedelta(hours=25))
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())
    assert webhooks.deliver(delivery.pk).state == "failed"

    login(page, live_server, ops)
    page.get_by_role("link", name="Webhooks", exact=True).click()
    row = page.locator(f"#endpoints tr[data-endpoint='{endpoint.pk}']")
    expect(row).to_contain_text("failed")
    expect(row).to_contain_text("lead.assigned")
    assert violations(page) == []
    screenshots(page, "webhooks-list")

    row.get_by_role("link", name=receiver.url).click()
    failed = page.locator(f"#deliveries tr[data-delivery='{delivery.pk}']")
    expect(failed).to_contain_text("failed")
    expect(failed).to_contain_text("HTTP 500")
    expect(failed).to_contain_text("try later")
    expect(failed).to_contain_text(str(event.id))
    assert violations(page) == []
    screenshots(page, "webhooks-failed")

    receiver.statuses = [200]
    failed.get_by_role("button", name=f"Send delivery {delivery.pk} again").click()

    expect(page.get_by_role("status").first).to_contain_text("being sent again")
    delivered = page.locator(f"#deliveries tr[data-delivery='{delivery.pk}']")
    expect(delivered).to_contain_text("delivered")
    expect(delivered).to_contain_text("HTTP 200")
    expect(delivered.locator("td").nth(2)).to_have_text("2")  # tries
    assert [json.loads(r["body"])["id"] for r in receiver.received] == [str(event.id)] * 2
    assert {r["headers"]["X-Event-Id"] for r in receiver.received} == {str(event.id)}
    assert violations(page) == []
    screenshots(page, "webhooks-delivered")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("URL")).to_have_value(receiver.url)
    assert violations(page) == []
    screenshots(page, "webhooks-edit")


def test_the_new_endpoint_form_refuses_a_bad_url_in_words(page, live_server, ops, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    login(page, live_server, ops)
    page.goto("/webhooks/new/")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hooks")
    page.get_by_label("lead.assigned").check()
    page.get_by_role("button", name="Create the endpoint").click()

    expect(page.locator("#endpoint-form")).to_contain_text(
        "'127.0.0.1' is a private or local address; webhooks go to public ones.")
    assert not WebhookEndpoint.objects.exists()
    assert violations(page) == []
    screenshots(page, "webhooks-new-refused")
