"""Who covers a territory (docs/rules.md §2): its SDR, who gets the leads the territory rule
routes, and its SAL. The geography (region, countries, segment) is set through the API or
its CSV import; ops change the people on the routing pages."""

from __future__ import annotations

from sdrcrm.errors import Refused
from sdrcrm.models import PROSPECTING_ROLES, SELLING_ROLES, User

from .models import Territory


def cover(territory: Territory, sdr: User | None, sal: User | None) -> Territory:
    """Give the territory to `sdr` (an active SDR or BDR) and `sal` (an active SAL or AE,
    or nobody); routing reads it from the next lead on."""
    if sdr is None or not sdr.is_active or sdr.role not in PROSPECTING_ROLES:
        raise Refused("A territory's SDR is an active SDR or BDR.", field="sdr")
    if sal is not None and (not sal.is_active or sal.role not in SELLING_ROLES):
        raise Refused("A territory's SAL is an active SAL or AE, or nobody.", field="sal")
    territory.sdr, territory.sal = sdr, sal
    territory.save(update_fields=["sdr", "sal"])  # the configuration cache sees the save
    return territory
