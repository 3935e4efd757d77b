"""`POST leads/{id}/convert/` (docs/rules.md §4, §10), mixed into LeadViewSet. The rules are in
leads/conversion.py; this module checks the body and that every id names a record the
caller may use (an id they may not see is a 400 naming the field, never another's data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from leads import conversion
from leads.models import Account, AccountType, Lead
from opportunities.api.serializers import SourceField
from opportunities.models import Deployment, Initiative, Source
from sdrcrm.ids import MAX_ID
from sdrcrm.models import User, active_prospectors, active_sellers

from .serializers import MAX_EMPLOYEES, CountryField

MAX_TEXT = 10_000  # qualification notes


class ScopedId(serializers.PrimaryKeyRelatedField):
    """An id among the records `scope(user)` returns for the signed-in user."""

    default_error_messages = {
        "required": "This field is required.",
        "does_not_exist": "No {label} with id {pk_value} that you may use.",
        "incorrect_type": "Give the {label}'s id (a whole number), not {data_type}.",
    }

    def __init__(self, model: type[Model], scope: Callable[[User], QuerySet], label: str, **kwargs: Any) -> None:
        self.scope = scope
        self.label_text = label
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(self.context["request"].user)

    def to_internal_value(self, data: Any) -> Model:
        # bool is an int to Python (True would be id 1); text must be digits.
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", label=self.label_text, data_type=type(data).__name__)
        if isinstance(data, str):
            if not data.isdecimal():
                self.fail("incorrect_type", label=self.label_text, data_type="text")
            data = int(data)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", label=self.label_text, pk_value=data)
        try:
            return self.get_queryset().get(pk=data)
        except self.get_queryset().model.DoesNotExist:
            self.fail("does_not_exist", label=self.label_text, pk_value=data)


def active_users(user: User) -> QuerySet:
    return User.objects.filter(is_active=True)


def sellers(user: User) -> QuerySet:
    return active_sellers()


def prospectors(user: User) -> QuerySet:
    return active_prospectors()


def visible_accounts(user: User) -> QuerySet:
    return Account.objects.visible_to(user)


def editable_leads(user: User) -> QuerySet:
    # The reseller's lead is converted too, so it must be one the caller may change.
    return Lead.objects.editable_by(user)


class NewAccountInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    employee_count = serializers.IntegerField(min_value=0, max_value=MAX_EMPLOYEES, required=False, allow_null=True)
    country = CountryField()
    type = serializers.ChoiceField(choices=AccountType.choices, required=False)


class OpportunityInput(serializers.Serializer):
    owner = ScopedId(User, sellers, "SAL or AE", help_text="The SAL/AE who accepts it")
    name = serializers.CharField(max_length=255, required=False,
                                 help_text='Default "<Account> - New business" ("<End user> via <Reseller>")')
    iacv = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, max_value=conversion.MAX_IACV,
                                    required=False)
    sdr = ScopedId(User, prospectors, "SDR or BDR", required=False, allow_null=True,
                   help_text="The credited SDR/BDR; default: you, when you are one and not the owner")
    source = SourceField(choices=Source.choices, required=False)
    professional_services = serializers.BooleanField(required=False)
    authority_confirmed = serializers.BooleanField(required=False)
    business_problem = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    initiative = serializers.ChoiceField(choices=Initiative.choices, required=False, allow_blank=True)
    current_tools = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    entry_use_case = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    potential_seats = serializers.IntegerField(min_value=0, max_value=MAX_EMPLOYEES, required=False, allow_null=True)
    deployment_preference = serializers.ChoiceField(choices=Deployment.choices, required=False, allow_blank=True)
    tech_stack = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    competition = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)


class ResellerInput(serializers.Serializer):
    lead = ScopedId(Lead, editable_leads, "lead", help_text="The reseller's lead")
    account = ScopedId(Account, visible_accounts, "account", required=False, allow_null=True,
                       help_text="The reseller's account; default: its lead's matched account")
    new_account = NewAccountInput(required=False, allow_null=True, help_text="Created with type reseller")


class ConvertInput(serializers.Serializer):
    account = ScopedId(Account, visible_accounts, "account", required=False, allow_null=True,
                       help_text="An existing account; default: the lead's matched account")
    new_account = NewAccountInput(required=False, allow_null=True, help_text="Create the account instead")
    contact_owner = ScopedId(User, active_users, "user", required=False, allow_null=True,
                             help_text="Default: the account owner at a customer, else the lead's owner")
    opportunity = OpportunityInput(required=False, allow_null=True)
    reseller = ResellerInput(required=False, allow_null=True)


class ConversionResult(serializers.Serializer):
    lead = serializers.IntegerField()
    contact = serializers.IntegerField()
    account = serializers.IntegerField()
    opportunity = serializers.IntegerField(allow_null=True)
    reseller_contact = serializers.IntegerField(allow_null=True)


class ConvertActionMixin:
    @extend_schema(request=ConvertInput, responses=ConversionResult)
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        """Convert the lead into a contact (and optionally an opportunity; with `reseller`,
        the handbook's third-party steps). One transaction: a refusal leaves nothing behind."""
        lead = self.get_object()  # type: ignore[attr-defined]  # 404 unseen, 403 read-only
        data = ConvertInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        result = conversion.convert_lead(lead, by=request.user, **data.validated_data)
        return Response({
            "lead": result.lead.pk,
            "contact": result.contact.pk,
            "account": result.account.pk,
            "opportunity": result.opportunity.pk if result.opportunity else None,
            "reseller_contact": result.reseller_contact.pk if result.reseller_contact else None,
        })
