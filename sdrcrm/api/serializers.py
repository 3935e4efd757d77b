from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers

from sdrcrm.models import JobRun, Team, User


# For a ModelSerializer whose fields depend on its class only: DRF works them out
# from the model on every instantiation (1.2 ms for LeadSerializer, once per ingest
# request). Here that happens once per class; later instances construct each field
# again from the arguments it was built with, as DRF's own field copy does. Argument
# values are shared (querysets, validator and choice lists, which fields copy or
# never change), except nested fields, which are bound to one parent and so copied.
# (A comment, not a docstring: drf-spectacular would show a docstring in every schema
# component of a serializer that inherits it.)
class ReusedFieldsMixin:

    _field_recipes: dict[type, list[tuple[str, type, tuple, dict[str, Any]]]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        recipe = self._field_recipes.get(type(self))
        if recipe is None:
            fields = super().get_fields()  # type: ignore[misc]
            recipe = [(name, type(field), field._args, field._kwargs) for name, field in fields.items()]
            self._field_recipes[type(self)] = recipe
            return fields
        return {
            name: field_class(*args, **{key: copy.deepcopy(value) if isinstance(value, serializers.Field) else value
                                        for key, value in kwargs.items()})
            for name, field_class, args, kwargs in recipe
        }


class BlankChoicesMixin:
    """For a ModelSerializer: a read-only choice field whose model field may be blank
    keeps `allow_blank`, which DRF drops, so the schema allows the "" it returns."""

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)  # type: ignore[misc]
        # Text only: "" is no value for a number field with choices (it would reach its validators).
        if "choices" in kwargs and model_field.blank and isinstance(model_field, (models.CharField, models.TextField)):
            kwargs["allow_blank"] = True
        return field_class, kwargs

    def include_extra_kwargs(self, kwargs: dict[str, Any], extra_kwargs: dict[str, Any]) -> dict[str, Any]:
        blank = "choices" in kwargs and kwargs.get("allow_blank")
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)  # type: ignore[misc]
        if blank:
            kwargs["allow_blank"] = True
        return kwargs


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "manager", "region"]


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, max_length=128,
                                     style={"input_type": "password"})
    monthly_sao_quota = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    monthly_iacv_quota = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)

    class Meta:
        model = User
        fields = [
            "id", "username", "password", "first_name", "last_name", "email", "role", "region",
            "sub_region", "segment", "team", "manager", "is_available", "ramp_start_date",
            "monthly_sao_quota", "monthly_iacv_quota", "is_active",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        password = attrs.get("password")
        if self.instance is None and not password:
            raise serializers.ValidationError({"password": ["A new user needs a password."]})
        if password:
            candidate = self.instance or User(**{k: v for k, v in attrs.items() if k != "password"})
            try:
                validate_password(password, candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from None
        if self.instance is not None and attrs.get("manager") == self.instance:
            raise serializers.ValidationError({"manager": ["A user cannot be their own manager."]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> User:
        password = validated_data.pop("password")
        user = User(**validated_data)
        user.set_password(password)
        user.save()
        return user

    def update(self, instance: User, validated_data: dict[str, Any]) -> User:
        password = validated_data.pop("password", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        if password:
            instance.set_password(password)
        instance.save()
        return instance


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = ["id", "name", "slot", "state", "started_at", "finished_at", "counts", "errors"]
