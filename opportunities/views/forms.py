"""Forms of the opportunity pages: filters, the stage move and the qualification edit."""

from __future__ import annotations

from typing import Any

from django import forms

from opportunities.api.serializers import MAX_DETAILS, MAX_SEATS
from opportunities.models import ClosedLostReason, Opportunity, Stage
from sdrcrm.ids import MAX_ID
from sdrcrm.models import Segment, Team, active_prospectors, active_sellers


class OpportunityFilterForm(forms.Form):
    """The list's and the board's filters. The owner and SDR choices are the active sellers
    and prospectors; picking one narrows what the user may see anyway, never widens it.
    The periods: the sales-accepted date (the SAO's date, what SDRs are credited by), the
    sales-qualified date, and the day a deal was won (in the company's time zone)."""

    stage = forms.ChoiceField(choices=[("", "Any stage"), *Stage.choices], required=False)
    mine = forms.BooleanField(required=False, label="Mine (owned or credited)")
    q = forms.CharField(required=False, max_length=100, label="Search")
    owner = forms.ModelChoiceField(queryset=active_sellers().order_by("username"), required=False,
                                   empty_label="Any owner")
    sdr = forms.ModelChoiceField(queryset=active_prospectors().order_by("username"), required=False,
                                 label="SDR credited", empty_label="Any SDR")
    # Several teams at once: the SAO dashboard's "All" row lists its teams' deals together.
    sdr_team = forms.ModelMultipleChoiceField(queryset=Team.objects.order_by("name"), required=False,
                                              label="Team of the SDR credited",
                                              widget=forms.SelectMultiple(attrs={"size": 3}))
    accepted_from = forms.DateField(required=False, label="Accepted from")
    accepted_to = forms.DateField(required=False, label="Accepted to")
    qualified_from = forms.DateField(required=False, label="Qualified from")
    qualified_to = forms.DateField(required=False, label="Qualified to")
    won_from = forms.DateField(required=False, label="Won from")
    won_to = forms.DateField(required=False, label="Won to")
    segment = forms.ChoiceField(choices=[("", "Any segment"), *Segment.choices], required=False,
                                label="Account segment")
    credited = forms.BooleanField(required=False, label="Credited to sales development (no professional services)")
    cursor = forms.CharField(required=False)

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        for field in ("owner", "sdr"):
            self.fields[field].label_from_instance = lambda user: user.get_full_name() or user.username

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for period in ("accepted", "qualified", "won"):
            start, end = data.get(f"{period}_from"), data.get(f"{period}_to")
            if start and end and end < start:
                self.add_error(f"{period}_to", "The period ends before it starts.")
        return data


class NewOpportunityForm(forms.Form):
    """A new opportunity on an account's page; the owner and contact lists are set per request."""

    name = forms.CharField(required=False, max_length=255, help_text="Default: '<Account> - New business'")
    stage = forms.ChoiceField(choices=[(Stage.PENDING_ACCEPTANCE, Stage.PENDING_ACCEPTANCE.label),
                                       (Stage.PRE_OPPORTUNITY, f"{Stage.PRE_OPPORTUNITY.label} (my own, warm)")])
    owner = forms.ModelChoiceField(queryset=None, required=False, label="Owner (SAL/AE)")
    primary_contact = forms.ModelChoiceField(queryset=None, required=False)
    iacv = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, label="IACV")

    def __init__(self, *args, owners, contacts, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda user: (
            f"{user.get_full_name() or user.username} ({user.get_role_display()})")
        self.fields["primary_contact"].queryset = contacts
        self.fields["primary_contact"].label_from_instance = lambda contact: contact.full_name or contact.email


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices)
    closed_lost_reason = forms.ChoiceField(choices=[("", "—"), *ClosedLostReason.choices], required=False,
                                           label="Closed-lost reason")
    merged_into = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label="Merged into")
    closed_lost_details = forms.CharField(required=False, max_length=MAX_DETAILS, widget=forms.Textarea(
        attrs={"rows": 2}), label="Closed-lost details")
    closed_won_details = forms.CharField(required=False, max_length=MAX_DETAILS, widget=forms.Textarea(
        attrs={"rows": 2}), label="Closed-won details")


class QualificationForm(forms.ModelForm):
    """What the owner (and, before 1-Discovery, sales development) fills in while qualifying."""

    potential_seats = forms.IntegerField(required=False, min_value=0, max_value=MAX_SEATS)
    iacv = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, label="IACV")

    class Meta:
        model = Opportunity
        fields = ["iacv", "close_date", "next_step_date", "authority_confirmed", "business_problem", "initiative",
                  "current_tools", "entry_use_case", "potential_seats", "deployment_preference", "tech_stack",
                  "competition"]
        widgets = {
            "close_date": forms.DateInput(attrs={"type": "date"}),
            "next_step_date": forms.DateInput(attrs={"type": "date"}),
            **{name: forms.Textarea(attrs={"rows": 2}) for name in
               ["business_problem", "current_tools", "entry_use_case", "tech_stack", "competition"]},
        }
