from datetime import datetime

from django import forms
from django.utils import timezone

from leads.models import MAX_CLOCK_SKEW, REQUIRED_REASONS, TOUCH_TYPES, ActivityType, CallOutcome, Status, Task
from sdrcrm.local_time import named

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
    campaign = forms.CharField(required=False, max_length=100)


class TouchForm(forms.Form):
    """A touch logged by hand on a lead's or contact's page: a call (with how it went),
    an email, a LinkedIn message, a meeting or a note; now, or when it happened."""

    type = forms.ChoiceField(choices=[(t.value, t.label) for t in TOUCH_TYPES], label="Touch")
    outcome = forms.ChoiceField(choices=[("", "—"), *CallOutcome.choices], required=False, label="Call outcome")
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    occurred_at = forms.DateTimeField(required=False, label=named("When"),
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


class PersonEditForm(forms.Form):
    """The plain fields of a lead or contact a person edits on its page; status, owner and
    sources have their own actions. Only what changed is sent to `update_person`."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField(max_length=254, required=False)
    title = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=40, required=False)
    company = forms.CharField(max_length=255, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=2, min_length=2, required=False, label="Country (ISO code)")
    employee_count = forms.IntegerField(min_value=0, max_value=10_000_000, required=False, label="Employees")
    industry = forms.CharField(max_length=100, required=False)

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def __init__(self, *args: object, email_required: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["email"].required = email_required  # a lead is its email; a contact may have none

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200, label="Task")
    kind = forms.ChoiceField(choices=Task.Kind.choices, initial=Task.Kind.CALL, label="Type")
    due_at = forms.DateTimeField(label=named("Due"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


def first_error(form: forms.Form) -> str:
    """The form's first error, prefixed with its field's label (a form-wide one alone)."""
    field, errors = next(iter(form.errors.items()))
    if field not in form.fields:
        return errors[0]
    return f"{form.fields[field].label or field.replace('_', ' ').capitalize()}: {errors[0]}"
