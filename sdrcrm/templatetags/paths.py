"""`{{ pk|path:"leads:task-done" }}`: the URL of a route that takes one id, for lists that
link every row. `{% url %}` resolves the route again for each row (50 µs each: two
thirds of the Today page's 52 ms of CPU at 190 rows, bench/REPORT.md); this resolves it
once per route and fills in the id."""

from __future__ import annotations

from functools import cache

from django import template
from django.urls import reverse

register = template.Library()
MARK = 987_654_321  # an id no route's pattern would add digits around


@cache
def _halves(name: str) -> tuple[str, str]:
    before, _, after = reverse(name, args=[MARK]).partition(str(MARK))
    return before, after


@register.filter
def path(pk: int, name: str) -> str:
    before, after = _halves(name)
    return f"{before}{int(pk)}{after}"
