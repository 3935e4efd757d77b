"""ReusedFieldsMixin builds a serializer's fields as DRF would, only faster."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from leads.api.serializers import ActivitySerializer, ContactSerializer, LeadSerializer
from leads.models import Lead
from sdrcrm.api.serializers import ReusedFieldsMixin

pytestmark = pytest.mark.django_db  # related fields show their querysets' choices


@pytest.mark.parametrize("serializer_class", [LeadSerializer, ContactSerializer, ActivitySerializer])
def test_the_fields_are_the_ones_drf_builds(serializer_class):
    ReusedFieldsMixin._field_recipes.pop(serializer_class, None)
    built_by_drf = serializer_class().fields
    assert serializer_class in ReusedFieldsMixin._field_recipes
    rebuilt = serializer_class().fields
    assert list(rebuilt) == list(built_by_drf)
    for name, field in rebuilt.items():
        assert repr(field) == repr(built_by_drf[name]), name
        assert field is not built_by_drf[name]


class Tagged(ReusedFieldsMixin, serializers.ModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(max_length=5), required=False)

    class Meta:
        model = Lead
        fields = ["id", "email", "tags"]


def test_nested_fields_are_not_shared_between_instances():
    first, second = Tagged().fields["tags"], Tagged().fields["tags"]
    third = Tagged().fields["tags"]
    assert third.child is not second.child and second.child is not first.child
    assert third.child.parent is third


def test_validation_is_unchanged_on_a_rebuilt_serializer():
    assert "tags" in Tagged().fields  # the recipe is made here
    serializer = Tagged(data={"email": "not-an-email", "tags": ["toolong"]})
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"email", "tags"}
