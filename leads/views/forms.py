from datetime import datetime

from django import forms
from django.utils import timezone

from leads.models import MAX_CLOCK_SKEW, REQUIRED_REASONS, TOUCH_TYPES, ActivityType, CallOutcome, Status

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


class TouchForm(forms.Form):
    """A touch logged by hand on a lead's or contact's page: a call (with how it went),
    an email, a LinkedIn message, a meeting or a note; now, or when it happened."""

    type = forms.ChoiceField(choices=[(t.value, t.label) for t in TOUCH_TYPES], label="Touch")
    outcome = forms.ChoiceField(choices=[("", "—"), *CallOutcome.choices], required=False, label="Call outcome")
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    occurred_at = forms.DateTimeField(required=False, label="When (UTC)",
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean(self) -> dict:
        data = super().clean()
        kind, outcome = data.get("type"), data.get("outcome")
        if kind == ActivityType.CALL and not outcome:
            self.add_error("outcome", "Say how the call went: connected, voicemail or no answer.")
        if kind and kind != ActivityType.CALL and outcome:
            self.add_error("outcome", "Only a call has an outcome.")
        if kind == ActivityType.NOTE and not data.get("notes"):
            self.add_error("notes", "A note needs its text.")
        when: datetime | None = data.get("occurred_at")
        if when is not None and when > timezone.now() + MAX_CLOCK_SKEW:
            self.add_error("occurred_at", "A touch cannot be logged in the future.")
        return data

    def details(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in ("outcome", "notes") if self.cleaned_data.get(key)}
