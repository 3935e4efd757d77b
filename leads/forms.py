from django import forms

from .models import REQUIRED_REASONS, Status

REASON_CHOICES = [("", "—")] + [(value, label) for choices in REQUIRED_REASONS.values()
                                 for value, label in choices.choices]


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
