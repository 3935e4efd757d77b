"""Territories (docs/rules.md §2): where each is (region, optional sub-region, countries,
segment) and who covers it: its SDR, who gets the leads the territory rule routes, and its
SAL. Ops change them on the routing pages, through the API or its CSV import; all three
check a territory here."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from sdrcrm.errors import Refused
from sdrcrm.models import PROSPECTING_ROLES, SELLING_ROLES, Region, Segment, User

from . import geo
from .models import Territory

NAME_LENGTH = Territory._meta.get_field("name").max_length


def cover(territory: Territory, sdr: User | None, sal: User | None) -> Territory:
    """Give the territory to `sdr` (an active SDR or BDR) and `sal` (an active SAL or AE,
    or nobody); routing reads it from the next lead on."""
    check_cover(sdr, sal)
    territory.sdr, territory.sal = sdr, sal
    territory.save(update_fields=["sdr", "sal"])  # the configuration cache sees the save
    return territory


def check_cover(sdr: User | None, sal: User | None) -> None:
    if sdr is None or not sdr.is_active or sdr.role not in PROSPECTING_ROLES:
        raise Refused("A territory's SDR is an active SDR or BDR.", field="sdr")
    if sal is not None and (not sal.is_active or sal.role not in SELLING_ROLES):
        raise Refused("A territory's SAL is an active SAL or AE, or nobody.", field="sal")


def clean_countries(value: str) -> str:
    """ISO codes separated by commas or spaces, any case → "DE,AT,CH"; unknown codes refused."""
    codes = [code.upper() for code in value.replace(",", " ").split()]
    unknown = [code for code in codes if not geo.country_exists(code)]
    if unknown:
        raise Refused(f"Unknown country codes: {', '.join(unknown)}.", field="countries")
    return ",".join(dict.fromkeys(codes))


def check_geography(region: str, sub_region: str, segment: str) -> None:
    if region not in Region.values:
        raise Refused(f"The region is one of {', '.join(Region.values)}.", field="region")
    allowed = geo.sub_regions().get(region, [])
    if sub_region and sub_region not in allowed:
        has = f"the sub-regions {', '.join(allowed)}" if allowed else "no sub-regions"
        raise Refused(f"{Region(region).label} has {has}; leave it blank for the whole region.", field="sub_region")
    if segment and segment not in Segment.values:
        raise Refused(f"The segment is one of {', '.join(Segment.values)}, or blank for any.", field="segment")


def save_territory(territory: Territory | None, *, name: str, region: str, sub_region: str, countries: str,
                   segment: str, sdr: User | None, sal: User | None) -> Territory:
    """Create a territory (`territory` None) or change one: where it is and who covers it.
    The most specific territory wins, so a narrower one may sit inside a wider one."""
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise Refused(f"A territory needs a name of at most {NAME_LENGTH} characters.", field="name")
    check_geography(region, sub_region, segment)
    countries = clean_countries(countries)
    check_cover(sdr, sal)
    territory = territory or Territory()
    territory.name, territory.region, territory.sub_region = name, region, sub_region
    territory.countries, territory.segment, territory.sdr, territory.sal = countries, segment, sdr, sal
    try:
        with transaction.atomic():
            territory.save()  # the configuration cache sees the save
    except IntegrityError:
        raise Refused(f"Another territory is already called {name!r}.", field="name") from None
    return territory
