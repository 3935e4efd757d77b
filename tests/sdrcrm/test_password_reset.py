"""The password-reset flow: a link by email that works once, the same answer for an
unknown address, throttled per address, and a new password revokes the API tokens."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from sdrcrm.models import ApiToken
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
NEW = "a-new-long-passphrase-41"


@pytest.fixture(autouse=True)
def mails(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.cache import cache

    cache.clear()  # the per-address throttle counts in the cache


def reset_link(client, email: str) -> str:
    response = client.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    (message,) = mail.outbox
    return re.search(r"https?://[^/]+(/password-reset/\S+/)", message.body).group(1)


def test_a_mailed_link_sets_a_new_password_once_and_revokes_the_api_tokens(client):
    user = UserFactory(email="sam@firm.com")
    ApiToken.objects.create(user=user, name="sync")
    link = reset_link(client, "sam@firm.com")

    form = client.get(link, follow=True)  # Django swaps the token for a session key first
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})

    assert response.status_code == 302 and response.url == reverse("password_reset_complete")
    assert client.login(username=user.username, password=NEW)
    assert not ApiToken.objects.filter(user=user).exists()
    client.logout()
    assert "This link is used or out of date" in client.get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@firm.com"})

    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_reset_requests_are_throttled_per_address(client, settings):
    settings.PASSWORD_RESET_RATE = "2/hour"
    UserFactory(email="sam@firm.com")
    answers = [client.post(reverse("password_reset"), {"email": "sam@firm.com"}, follow=True) for _ in range(3)]

    assert len(mail.outbox) == 2
    assert "Too many reset requests" in answers[-1].content.decode()


def test_the_old_password_stops_working(client):
    user = UserFactory(email="sam@firm.com")
    link = reset_link(client, "sam@firm.com")
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})

    assert not client.login(username=user.username, password=PASSWORD)
