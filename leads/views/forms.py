from django import forms

from leads.models import REQUIRED_REASONS, Status

# Grouped by the status that needs them, so a Recycle reason is never offered for Unqualified.
REASON_CHOICES = [("", "—")] + [(Status(status).label, list(choices.choices))
                                 for status, choices in REQUIRED_REASONS.items()]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.ChoiceField(choices=REASON_CHOICES, required=False)


class LeadFilterForm(forms.Form):
    view = forms.CharField(required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    q = forms.CharField(required=False, max_length=100, label="Search")
    ordering = forms.CharField(required=False)
    cursor = forms.CharField(required=False)
    owner = forms.IntegerField(required=False, min_value=1)
