"""`{% phone_link lead.phone %}` and `{% email_link lead.email %}`: a number an SDR calls
with one tap or click (a `tel:` link, RFC 3966: the digits, a leading +, an extension as
`;ext=`) and an address that opens their mail client; "—" when there is none."""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()
EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*(\d+)\s*$", re.IGNORECASE)


def tel_uri(phone: str) -> str:
    """'+1 (415) 555-0199 ext. 12' → 'tel:+14155550199;ext=12'; '' without a digit."""
    extension = EXTENSION.search(phone)
    number = phone[:extension.start()] if extension else phone
    digits = re.sub(r"\D", "", number)
    if not digits:
        return ""
    plus = "+" if number.strip().startswith("+") else ""
    return f"tel:{plus}{digits}" + (f";ext={extension.group(1)}" if extension else "")


@register.simple_tag
def phone_link(phone: str | None) -> SafeString:
    uri = tel_uri(phone or "")
    if not uri:
        return format_html("{}", phone or "—")
    return format_html('<a href="{}">{}</a>', uri, phone)


@register.simple_tag
def email_link(email: str | None) -> SafeString:
    if not email:
        return format_html("{}", "—")
    return format_html('<a href="mailto:{}">{}</a>', email, email)
