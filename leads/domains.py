"""Pure facts about emails, domains and names: free and disposable mail, the domain and
normalised company name a lead is matched to an account by, and name casing."""

from __future__ import annotations

import hashlib
import re

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS

COMPANY_SUFFIXES = frozenset(
    "inc incorporated llc ltd limited corp corporation co company gmbh ag sa sas bv nv plc pty srl spa oy ab as".split()
)
# Consumer mailbox providers: never a company domain, never matched to an account.
FREE_EMAIL_DOMAINS = frozenset(
    """
    gmail.com googlemail.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.it live.com
    live.co.uk msn.com outlook.com outlook.fr outlook.de yahoo.com yahoo.co.uk yahoo.fr yahoo.de
    yahoo.co.jp yahoo.co.in ymail.com rocketmail.com aol.com icloud.com me.com mac.com
    protonmail.com proton.me pm.me gmx.com gmx.de gmx.net web.de mail.com mail.ru yandex.com
    yandex.ru qq.com 163.com 126.com sina.com naver.com hanmail.net zoho.com tutanota.com
    fastmail.com hey.com free.fr orange.fr laposte.net libero.it seznam.cz wp.pl o2.pl rediffmail.com
    """.split()
)


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def is_free(domain: str) -> bool:
    return domain.lower() in FREE_EMAIL_DOMAINS


def is_disposable(domain: str) -> bool:
    """True for a self-terminating mailbox domain or any subdomain of one."""
    parts = domain.lower().split(".")
    return any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1))


def normalise_domain(domain: str) -> str:
    """'https://www.Acme.com/about' → 'acme.com'."""
    domain = re.sub(r"^[a-z]+://", "", domain.strip().lower())
    domain = domain.split("/")[0].split(":")[0]
    return domain.removeprefix("www.")


def account_domain(email: str) -> str:
    """The domain a lead is matched to an account by ('' for free mail or no domain)."""
    domain = email_domain(email)
    return normalise_domain(domain) if domain and not is_free(domain) else ""


def normalise_company(name: str) -> str:
    """'ACME, Inc.' and 'Acme Incorporated' → 'acme', for matching leads to accounts."""
    words = re.sub(r"[^\w\s]", " ", name.lower()).split()
    while words and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    return " ".join(words)


def account_keys(email: str, company: str) -> tuple[str, str]:
    """What a person is matched to an account by: its email's company domain and its
    normalised company name ('' where there is none). Single and bulk ingest both match
    on these, the domain first, then the name."""
    return account_domain(email), normalise_company(company) if company else ""


def capitalise_name(name: str) -> str:
    """'JOHN SMITH' and 'john smith' → 'John Smith'; mixed case ('McDonald') is kept."""
    name = " ".join(name.split())
    if name.isupper() or name.islower():
        return name.title()
    return name


def hash_email(email: str) -> str:
    """What tombstones and erasures keep of an email: its SHA-256, lower-cased, never the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()
