"""Query filters of the people and account lists: owner, status, segment, the SDR views
(`view`, leads/worklists.py) and search."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from leads.models import Account, AccountType, Contact, Lead, Status
from leads.worklists import CONTACT_VIEWS, LEAD_VIEWS, apply_view
from sdrcrm.ids import MAX_ID
from sdrcrm.models import Region, Segment, User

SORTABLE = ["created_at", "updated_at", "status_changed_at", "score", "last_name"]


def user_param(user: User, value: str, field: str) -> User:
    """A filter's `me` or user id, as a user to filter on (400 naming `field` otherwise)."""
    if value == "me":
        return user
    # isdecimal, not isdigit: int() refuses digits such as "²".
    if not value.isdecimal() or int(value) > MAX_ID:
        raise ValidationError({field: ["Give `me` or a user id."]})
    return User(pk=int(value))


def id_filter(**kwargs: Any) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(min_value=1, max_value=MAX_ID, **kwargs)


class PersonFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    owner = django_filters.CharFilter(method="filter_owner", help_text="`me` or a user id")
    queue = id_filter(field_name="queue_id")
    team = id_filter(method="filter_noop", help_text="with `view`: a team id")
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    view = django_filters.CharFilter(method="filter_view")
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    VIEWS: dict = LEAD_VIEWS

    def _owner(self, value: str) -> User:
        return user_param(self.request.user, value, "owner")

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(owner=self._owner(value))

    def filter_noop(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset

    def filter_view(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        owner = self.data.get("owner")
        team = self.form.cleaned_data.get("team")
        return apply_view(queryset, value, self.request.user, owner=self._owner(owner) if owner else None,
                          team_id=int(team) if team else None, views=self.VIEWS)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if "@" in value:
            return queryset.filter(email__startswith=value.lower())
        return queryset.filter(
            Q(last_name__istartswith=value) | Q(first_name__istartswith=value)
            | Q(company__istartswith=value) | Q(email__startswith=value.lower())
        )


class LeadFilter(PersonFilter):
    class Meta:
        model = Lead
        fields = ["status", "owner", "queue", "segment", "region", "view", "search", "team"]


class ContactFilter(PersonFilter):
    VIEWS = CONTACT_VIEWS
    account = id_filter(field_name="account_id")

    class Meta:
        model = Contact
        fields = ["status", "owner", "queue", "segment", "region", "view", "search", "team", "account"]


class AccountFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    type = django_filters.ChoiceFilter(choices=AccountType.choices)
    owner = id_filter(field_name="owner_id")
    search = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Account
        fields = ["segment", "region", "type", "owner", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__istartswith=value.strip()) | Q(domain__startswith=value.strip().lower()))
