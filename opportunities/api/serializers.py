from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.models import Account, Contact
from opportunities.models import ClosedLostReason, Opportunity, Source, Stage, StageChange
from sdrcrm.ids import MAX_ID
from sdrcrm.models import User

MAX_DETAILS = 10_000
MAX_SEATS = 10_000_000


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record the requesting user may see; any other id reads as not existing
    (docs/rules.md §8.2: never confirm what someone may not see)."""

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset
        return queryset.visible_to(request.user)


@extend_schema_field(
    {"type": "string", "enum": Source.values,
     "description": "\n".join(f"* `{value}` - {text}" for value, text in Source.choices)},
    component_name="OpportunitySourceEnum",
)
class SourceField(serializers.ChoiceField):
    """The opportunity's source. Its own schema component: settings name the lead's
    initial-source enum "SourceEnum", and the generator would otherwise point this field there."""


class OpportunitySerializer(serializers.ModelSerializer):
    account = VisibleRelatedField(queryset=Account.objects.all())
    primary_contact = VisibleRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    reseller_contact = VisibleRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    reseller_account = VisibleRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               help_text="The SAL/AE; defaults to you when you sell or run ops.")
    sdr = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True,
        help_text="The credited SDR/BDR, never the owner; defaults to you when you are an SDR/BDR.")
    stage = serializers.ChoiceField(
        choices=Stage.choices, required=False,
        help_text="On create only: pending_acceptance (default) or pre_opportunity. "
                  "Later moves: POST opportunities/{id}/stage/.")
    source = SourceField(choices=Source.choices, required=False)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    iacv = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    potential_seats = serializers.IntegerField(min_value=0, max_value=MAX_SEATS, required=False, allow_null=True)
    closed_lost_details = serializers.CharField(max_length=MAX_DETAILS, required=False, allow_blank=True)
    closed_won_details = serializers.CharField(max_length=MAX_DETAILS, required=False, allow_blank=True)
    is_sao = serializers.BooleanField(read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id", "name", "account", "primary_contact", "reseller_contact", "reseller_account", "lead", "owner",
            "sdr", "stage", "stage_label", "stage_changed_at", "iacv", "amount", "close_date", "next_step_date",
            "source", "professional_services", "authority_confirmed", "business_problem", "initiative",
            "current_tools", "entry_use_case", "potential_seats", "deployment_preference", "tech_stack",
            "competition", "is_sao", "sales_accepted_date", "sales_qualified", "sales_qualified_date",
            "initial_iacv", "closed_at", "closed_lost_reason", "closed_lost_details", "closed_won_details",
            "merged_into", "created_by", "created_at", "updated_at",
        ]
        # Set only by creation and the stage-change function.
        read_only_fields = ["lead", "stage_changed_at", "sales_accepted_date", "sales_qualified",
                            "sales_qualified_date", "initial_iacv", "closed_at", "closed_lost_reason",
                            "merged_into", "created_by", "created_at", "updated_at"]

    def validate_account(self, account: Account) -> Account:
        if self.instance is not None and account.pk != self.instance.account_id:
            raise serializers.ValidationError("An opportunity's account cannot change.")
        return account

    def validate_stage(self, stage: str) -> str:
        if self.instance is not None and stage != self.instance.stage:
            raise serializers.ValidationError("Change the stage with POST opportunities/{id}/stage/.")
        return stage

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            # Repeating the current account or stage in a PATCH is harmless; only changes go on.
            attrs.pop("account", None)
            attrs.pop("stage", None)
        return attrs


class StageInput(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    closed_lost_reason = serializers.ChoiceField(choices=ClosedLostReason.choices, required=False, allow_blank=True,
                                                 default="", help_text="Required with closed_lost.")
    merged_into = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                           default=None,
                                           help_text="With reason `merged`: an opportunity of the same account.")
    closed_lost_details = serializers.CharField(max_length=MAX_DETAILS, required=False, allow_blank=True, default="")
    closed_won_details = serializers.CharField(
        max_length=MAX_DETAILS, required=False, allow_blank=True, default="",
        help_text="Required with closed_won when the IACV is at or above the large-deal threshold.")


class StageChangeSerializer(serializers.ModelSerializer):
    # Plain strings in the schema: the lead history's `old`/`new` already name the status enums,
    # and a second choice set under the same field names would leave the generator guessing.
    old = serializers.CharField(read_only=True, help_text="The stage before (a StageEnum value); blank on creation")
    new = serializers.CharField(read_only=True, help_text="The stage after (a StageEnum value)")
    old_label = serializers.CharField(source="get_old_display", read_only=True)
    new_label = serializers.CharField(source="get_new_display", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StageChange
        fields = ["id", "old", "new", "old_label", "new_label", "by", "at"]

