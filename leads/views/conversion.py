"""The Convert card on the lead page and its form (docs/rules.md §4, §9). The rules are in
leads/conversion.py; this module turns the form into records the user may use."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from leads import conversion, domains
from leads.models import OPEN_STATUSES, Account, Contact, Lead
from opportunities.models import Opportunity
from sdrcrm.errors import Refused
from sdrcrm.ids import MAX_ID
from sdrcrm.models import User, active_sellers

from .access import editable_lead


def sellers() -> QuerySet[User]:
    return active_sellers().order_by("username")


class ConvertForm(forms.Form):
    ACCOUNT_CHOICES = [("matched", "The matched account"), ("existing", "Another account"),
                       ("new", "A new account")]

    account_choice = forms.ChoiceField(choices=ACCOUNT_CHOICES, label="Account")
    account_id = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False, label="Account")
    new_name = forms.CharField(max_length=255, required=False, label="New account name")
    new_domain = forms.CharField(max_length=253, required=False, label="New account domain")
    opportunity_owner = forms.ModelChoiceField(queryset=sellers(), required=False, label="Opportunity owner")
    iacv = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, max_value=conversion.MAX_IACV,
                              required=False, label="IACV")
    reseller_lead = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False, label="Reseller's lead")
    reseller_account = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                          label="Reseller's account")
    reseller_new_name = forms.CharField(max_length=255, required=False, label="New reseller account name")

    def __init__(self, *args: Any, user: User, lead: Lead, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.lead = lead

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("account_choice")
        if choice == "existing":
            data["account"] = self._account(data.get("account_id"), "account_id")
        elif choice == "new" and not data.get("new_name"):
            self.add_error("new_name", "Give the new account's name.")
        elif choice == "matched" and self.lead.account_id is None:
            self.add_error("account_choice", "This lead matches no account: pick another one or a new one.")
        if data.get("reseller_lead"):
            data["reseller"] = self._reseller(data)
        elif data.get("reseller_account") or data.get("reseller_new_name"):
            self.add_error("reseller_lead", "Give the reseller's lead too.")
        return data

    def _account(self, pk: int | None, field: str) -> Account | None:
        if pk is None:
            self.add_error(field, "Give the account's id.")
            return None
        account = Account.objects.visible_to(self.user).filter(pk=pk).first()
        if account is None:
            self.add_error(field, f"No account with id {pk} that you may see.")
        return account

    def _reseller(self, data: dict[str, Any]) -> dict[str, Any]:
        lead = Lead.objects.editable_by(self.user).filter(pk=data["reseller_lead"]).first()
        if lead is None:
            self.add_error("reseller_lead", f"No lead with id {data['reseller_lead']} that you may change.")
        account = self._account(data["reseller_account"], "reseller_account") if data.get("reseller_account") \
            else None
        new = {"name": data["reseller_new_name"]} if data.get("reseller_new_name") else None
        return {"lead": lead, "account": account, "new_account": new}

    def conversion_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of conversion.convert_lead."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {}
        if data["account_choice"] == "existing":
            kwargs["account"] = data["account"]
        elif data["account_choice"] == "new":
            kwargs["new_account"] = {"name": data["new_name"], "domain": data.get("new_domain") or ""}
        if data.get("opportunity_owner") is not None:
            opportunity: dict[str, Any] = {"owner": data["opportunity_owner"]}
            if data.get("iacv") is not None:
                opportunity["iacv"] = data["iacv"]
            kwargs["opportunity"] = opportunity
        if data.get("reseller"):
            kwargs["reseller"] = data["reseller"]
        return kwargs


def lead_context(lead: Lead, user: User, can_edit: bool) -> dict[str, Any]:
    """What the lead page's Convert card shows: the result once converted (two queries),
    else the form for those who may convert an open lead (one query for the sellers)."""
    if lead.converted_to_id is not None:
        contact = Contact.objects.select_related("account").filter(pk=lead.converted_to_id).first()
        opportunity = Opportunity.objects.visible_to(user).filter(lead=lead).order_by("id").first()
        return {"conversion": {"contact": contact, "account": contact.account if contact else None,
                               "opportunity": opportunity}}
    offer = can_edit and lead.status in OPEN_STATUSES
    return {"conversion": {"offer": offer, "sellers": list(sellers()) if offer else [],
                           "domain": domains.account_domain(lead.email)}}


@login_required
@require_POST
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is None:
        return redirect("leads:detail", pk=pk)
    if lead.converted_to_id is not None:
        # Sent again (a second tab, the back button): the conversion happened; the page says where to.
        messages.info(request, f"{lead.full_name} was already converted.")
        return redirect("leads:detail", pk=pk)
    form = ConvertForm(request.POST, user=request.user, lead=lead)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = "" if field == "__all__" else f"{form.fields[field].label or field}: "
        messages.error(request, f"{label}{errors[0]}")
        return redirect("leads:detail", pk=pk)
    try:
        result = conversion.convert_lead(lead, by=request.user, **form.conversion_kwargs())
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        said = f"Converted to {result.contact.full_name} at {result.account.name}"
        if result.opportunity is not None:
            said += f"; opportunity “{result.opportunity.name}” is pending acceptance"
        messages.success(request, said + ".")
    return redirect("leads:detail", pk=pk)
