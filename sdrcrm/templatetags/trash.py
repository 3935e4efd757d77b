"""`{% may_delete record as allowed %}`: whether the user may delete the record a page shows
(leads/trash.py decides), so each record page shows its Delete button only to those who may."""

from __future__ import annotations

from typing import Any

from django import template

from leads import trash

register = template.Library()


@register.simple_tag(takes_context=True)
def may_delete(context: dict[str, Any], record: Any) -> bool:
    user = context["request"].user
    return trash.may_delete(user, record)
