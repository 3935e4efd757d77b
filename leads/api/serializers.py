from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from leads.models import MAX_CLOCK_SKEW, Account, Activity, ActivityType, Contact, Lead, Queue, StatusChange
from routing import geo
from sdrcrm.api.serializers import BlankChoicesMixin, ReusedFieldsMixin
from sdrcrm.models import User

# The largest id a bigint primary key holds: larger ids are a 400, not a database error.
MAX_DETAILS_BYTES = 16_000
MAX_EMPLOYEES = 10_000_000


def validate_details(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise serializers.ValidationError("details must be a JSON object.")
    text = json.dumps(value)
    if len(text) > MAX_DETAILS_BYTES:
        raise serializers.ValidationError(f"details is larger than {MAX_DETAILS_BYTES} bytes.")
    if "\\u0000" in text:
        raise serializers.ValidationError("details may not contain NUL characters.")
    try:
        # A lone surrogate ("\\ud800") parses, but no database can store it as text.
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise serializers.ValidationError("details may contain only valid Unicode text.") from None
    return value


def validate_country(value: str) -> str:
    if value and not geo.country_exists(value):
        raise serializers.ValidationError(f"'{value}' is not an ISO 3166-1 alpha-2 country code.")
    return value.upper()


class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code, stored upper-case ("de" → "DE")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=2, required=False, allow_blank=True, validators=[validate_country], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        # A validator's return value is discarded, so the upper-casing happens here.
        return super().to_internal_value(data).upper()


PERSON_FIELDS = [
    "id", "first_name", "last_name", "email", "title", "phone", "company", "country", "state",
    "city", "employee_count", "industry", "public_sector", "owner", "queue", "status",
    "status_reason", "status_changed_at", "score", "mql_at", "last_mql_at", "initial_source",
    "lead_source", "last_interesting_moment", "last_interesting_moment_at", "inactive", "opted_out",
    "high_priority", "last_handraise_at", "active_until", "is_passive", "segment", "region",
    "sub_region", "created_at", "updated_at",
]
PERSON_READ_ONLY = [
    "status", "status_reason", "status_changed_at", "score", "mql_at", "last_mql_at", "lead_source",
    "last_handraise_at", "active_until", "is_passive", "segment", "region", "sub_region",
    "created_at", "updated_at",
]


class PersonSerializer(ReusedFieldsMixin, BlankChoicesMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True)
    employee_count = serializers.IntegerField(
        min_value=0, max_value=MAX_EMPLOYEES, required=False, allow_null=True
    )
    country = CountryField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("owner") is not None and attrs.get("queue") is not None:
            raise serializers.ValidationError({"queue": ["A record has an owner or a queue, never both."]})
        return attrs


class LeadSerializer(PersonSerializer):
    matched_account = serializers.PrimaryKeyRelatedField(source="account", read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields = PERSON_FIELDS + ["matched_account", "converted_to", "sla_due_at", "sla_breached_at",
                                  "spam_marked_at", "spam_marked_by", "spam_block_domain"]
        read_only_fields = PERSON_READ_ONLY + ["converted_to", "sla_due_at", "sla_breached_at", "spam_marked_at",
                                               "spam_marked_by", "spam_block_domain"]
        extra_kwargs = {
            # Uniqueness is the ingest service's job: a known email is an update, not an error.
            "email": {"validators": []},
            "initial_source": {"required": False},
        }


class ContactSerializer(PersonSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Contact
        fields = PERSON_FIELDS + ["account", "role"]
        read_only_fields = PERSON_READ_ONLY

    def validate_account(self, account: Account | None) -> Account | None:
        user = self.context["request"].user
        if account is not None and not Account.objects.visible_to(user).filter(pk=account.pk).exists():
            raise serializers.ValidationError(f'Invalid pk "{account.pk}" - object does not exist.')
        return account


class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    """An account the caller may read, by id. One they may not read answers exactly as one
    that does not exist, so ids cannot be probed."""

    default_error_messages = {
        "does_not_exist": "No account with id {pk_value} that you can see.",
        "incorrect_type": "Give an account id (a whole number), not {data_type}.",
    }

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:  # the schema, with no one asking
            return Account.objects.none()
        return Account.objects.visible_to(request.user)


class AccountSerializer(BlankChoicesMixin, serializers.ModelSerializer):
    parent = VisibleAccountField(required=False, allow_null=True,
                                 help_text="The parent account: one you can see, or null")
    employee_count = serializers.IntegerField(
        min_value=0, max_value=MAX_EMPLOYEES, required=False, allow_null=True
    )
    ce_active_users = serializers.IntegerField(min_value=0, max_value=MAX_EMPLOYEES, required=False)
    country = CountryField()
    carr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    it_employees = serializers.IntegerField(
        min_value=0, max_value=MAX_EMPLOYEES, required=False, allow_null=True,
        help_text="Employees in IT/TEDD positions (a tier qualifier at 250 or more)",
    )
    targeted = serializers.BooleanField(
        required=False,
        help_text="true flags the account as targeted by you (at most 40 at a time, a setting); false unflags it",
    )

    class Meta:
        model = Account
        fields = [
            "id", "name", "domain", "industry", "employee_count", "country", "state", "type", "parent",
            "owner", "bdr_assigned", "bdr_prospecting_status", "is_named", "abm_tier", "targeted",
            "targeted_by", "targeted_at", "tier", "public_sector", "using_ce", "ce_active_users", "tech_stack",
            "it_employees", "devops_adoption", "carr", "segment", "region", "created_at", "updated_at",
        ]
        # The tier is recomputed from the qualifiers on every save (services.save_account).
        read_only_fields = ["tier", "targeted_by", "targeted_at", "segment", "region", "created_at", "updated_at"]

    def validate_parent(self, parent: Account | None) -> Account | None:
        if parent is not None and self.instance is not None:
            node: Account | None = parent
            while node is not None:  # a hierarchy may not loop back on itself
                if node.pk == self.instance.pk:
                    raise serializers.ValidationError("An account cannot be its own ancestor.")
                node = node.parent
        return parent


class StatusInput(serializers.Serializer):
    status = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class StatusChangeSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StatusChange
        fields = ["id", "old", "new", "reason", "cause", "by", "at"]


class ActivitySerializer(ReusedFieldsMixin, serializers.ModelSerializer):
    lead = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    contact = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "lead", "contact", "type", "occurred_at", "details", "source_system", "external_id",
                  "created_at"]


class ActivityFields(serializers.Serializer):
    """What an activity says, whoever it is about (single and bulk ingest)."""

    type = serializers.ChoiceField(choices=ActivityType.choices)
    occurred_at = serializers.DateTimeField(required=False)
    details = serializers.JSONField(required=False, default=dict, validators=[validate_details])
    source_system = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="Your system's id for this activity, unique per source_system: sent again, it is the same "
                  "activity (answered 200, counted once).")

    def validate_occurred_at(self, value: datetime) -> datetime:
        # A behaviour has already happened; a date far ahead would also overflow the
        # scoring windows (60 days after a handraise) near year 9999.
        if value > timezone.now() + MAX_CLOCK_SKEW:
            raise serializers.ValidationError("occurred_at may not be in the future.")
        return value


class ActivityInput(ActivityFields):
    lead = serializers.IntegerField(required=False, min_value=1)
    contact = serializers.IntegerField(required=False, min_value=1)
    email = serializers.EmailField(required=False, max_length=254)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in ("lead", "contact", "email") if attrs.get(key) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": ["Give exactly one of lead, contact or email."]}
            )
        return attrs


class BulkLeadInput(serializers.Serializer):
    leads = serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=settings.BULK_MAX_ITEMS,
                                  help_text="Up to 1,000 leads, each the body of POST leads/ plus optional "
                                            "`activities`: a list of {type, occurred_at, details, source_system}.")


class AsciiFirstSurrogateCheck(ProhibitSurrogateCharactersValidator):
    """DRF's check that a text field holds no surrogate characters (every CharField has
    it), answered at once for ASCII text, which cannot hold one: DRF's own visits each
    character in Python, 0.6 % of an ingested lead's instructions. Other text is checked
    by DRF's."""

    def __call__(self, value: Any) -> None:
        if not (type(value) is str and value.isascii()):
            super().__call__(value)


class ItemValidator:
    """`serializer.run_validation(item)` for the items of a bulk request, at the cost of
    the fields an item names.

    DRF visits every writable field of every item, and skips an absent one of a partial
    serializer by raising an exception: for a lead that names 4 of its 20 fields, that
    was three quarters of validating it. Here what a field does when absent is asked of
    the field once; those that skip are left out when absent, the others (given, or with
    a default) are validated as DRF does, field by field in the serializer's order, then
    the serializer's validators and validate(). An item with any error is validated again
    by the serializer itself, so the errors are DRF's own, word for word.
    """

    def __init__(self, serializer: serializers.Serializer) -> None:
        self.serializer = serializer
        for field in serializer._writable_fields:
            field.validators = [AsciiFirstSurrogateCheck() if type(check) is ProhibitSurrogateCharactersValidator
                                else check for check in field.validators]
        # Serializer.run_validators works out the read-only defaults before it runs the
        # validators, even when there are none.
        self.has_validators = bool(serializer.validators)
        standard = (type(serializer).run_validation is serializers.Serializer.run_validation
                    and type(serializer).to_internal_value is serializers.Serializer.to_internal_value)
        # (field, name, validate_<name> method, skipped when absent)
        self.fields: list[tuple[serializers.Field, str, Any, bool]] | None = [
            (field, field.field_name, getattr(serializer, "validate_" + field.field_name, None), _skips_absent(field))
            for field in serializer._writable_fields
        ] if standard else None

    def run_validation(self, data: Any) -> Any:
        if self.fields is None or type(data) is not dict:
            return self.serializer.run_validation(data)
        ret: dict[str, Any] = {}
        try:
            for field, name, validate, skips in self.fields:
                if skips and name not in data:
                    continue
                try:
                    value = field.run_validation(field.get_value(data))
                    if validate is not None:
                        value = validate(value)
                except SkipField:
                    continue
                self.serializer.set_value(ret, field.source_attrs, value)
            if self.has_validators:
                self.serializer.run_validators(ret)
            ret = self.serializer.validate(ret)
        except (serializers.ValidationError, DjangoValidationError):
            return self.serializer.run_validation(data)  # raises DRF's own error
        assert ret is not None, ".validate() should return the validated data"
        return ret


# Per thread: a validator's serializer holds the request it validates for.
_validators = threading.local()


def input_validator(serializer_class: type[serializers.Serializer], request: Any, **kwargs: Any) -> ItemValidator:
    """The ItemValidator of `serializer_class(**kwargs)`, made once per thread and given
    this request's context: DRF builds a serializer's fields each time one is made, which
    was a tenth of an ingest request (POST leads/, POST activities/). `run_validation`
    returns what `is_valid()` would leave in `validated_data`, or raises its errors."""
    cache = _validators.__dict__.setdefault("by_class", {})
    key = (serializer_class, tuple(sorted(kwargs.items())))
    validator = cache.get(key)
    if validator is None:
        validator = cache[key] = ItemValidator(serializer_class(**kwargs))
    validator.serializer._context = {"request": request}
    return validator


def _skips_absent(field: serializers.Field) -> bool:
    """Whether the field is skipped when an item does not name it (not required, no
    default, or any field of a partial serializer) and reads only its own key."""
    if type(field).get_value is not serializers.Field.get_value:
        return False
    try:
        field.run_validation(empty)
    except SkipField:
        return True
    except (serializers.ValidationError, DjangoValidationError):
        pass  # a required field: an item without it is refused (by the serializer)
    return False


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = serializers.ListField(child=serializers.DictField(),
                                    help_text="Per item, in order: index, result (created, updated, rejected), "
                                              "then id, email, status, status_reason, score, owner, queue, "
                                              "segment, region, sub_region, matched_account, mql_at, opted_out; "
                                              "or, when rejected, detail and errors.")
