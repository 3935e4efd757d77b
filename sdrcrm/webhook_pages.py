"""The ops pages of webhooks (docs/rules.md §10.1, sdrcrm/webhooks.py), under /webhooks/: the
endpoints with their last delivery, the form that makes or changes one, turning one off
or on, and an endpoint's deliveries, newest first, each with "Send again". The rules are
sdrcrm.webhooks' (the API calls the same functions); ops only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from . import views, webhooks
from .errors import Refused
from .models import WebhookDelivery, WebhookEndpoint
from .pagination import Keyset

ENDPOINTS_KEYSET = Keyset(["id"], default="id", page_size=50)
DELIVERIES_KEYSET = Keyset(["id"], default="-id", page_size=50)
LOW, HIGH = webhooks.SECRET_LENGTHS

ops_only = views.ops_only("Webhooks are managed by Sales-Dev Ops.")


class EndpointForm(forms.Form):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         widget=forms.URLInput(attrs={"class": "label-input", "placeholder": "https://"}))
    events = forms.MultipleChoiceField(choices=WebhookEndpoint.Event.choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Pick at least one event."})
    secret = forms.CharField(required=False, min_length=LOW, max_length=HIGH, strip=True, widget=forms.TextInput(
        attrs={"class": "label-input", "autocomplete": "off", "spellcheck": "false",
               "aria-describedby": "id_secret-help"}))
    description = forms.CharField(required=False, max_length=200,
                                  widget=forms.TextInput(attrs={"class": "label-input"}))
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: object, editing: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["secret"].required = not editing  # a new one's is made up in the form, for ops to copy
        self.fields["secret"].help_text = (
            "Leave it empty to keep the current secret; it is never shown again." if editing else
            f"Signs every delivery ({LOW} to {HIGH} characters); copy it to the receiver now, it is never "
            "shown again.")


@ops_only
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """Every endpoint with the state and time of its latest delivery (one query: the
    latest by the (endpoint, -id) index)."""
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-id")
    endpoints = WebhookEndpoint.objects.annotate(last_state=Subquery(latest.values("state")[:1]),
                                                 last_attempt_at=Subquery(latest.values("last_attempt_at")[:1]))
    try:
        rows, next_cursor = ENDPOINTS_KEYSET.page(endpoints, "id", request.GET.get("cursor"),
                                                  ENDPOINTS_KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the first page.")
        return redirect("webhooks:list")
    return render(request, "webhooks/endpoints.html", {"endpoints": rows, "next_cursor": next_cursor})


@ops_only
def endpoint_new(request: HttpRequest) -> HttpResponse:
    # The secret is made up here, in the form, so ops copy it before saving; a made-up
    # secret never travels in a message or the session.
    form = EndpointForm(request.POST or None, editing=False,
                        initial={"secret": webhooks.new_secret(), "active": True})
    return _save(request, WebhookEndpoint(), form, "webhooks/form.html")


@ops_only
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = EndpointForm(request.POST or None, editing=True, initial={
        "url": endpoint.url, "events": endpoint.events, "description": endpoint.description,
        "active": endpoint.active})
    return _save(request, endpoint, form, "webhooks/form.html")


def _save(request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointForm, template: str) -> HttpResponse:
    """Save a posted, valid form through webhooks.save_endpoint; a refusal is shown on the
    field it names. A form with errors answers 400."""
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.save_endpoint(endpoint, form.cleaned_data, by=request.user)
        except Refused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            messages.success(request, f"Endpoint {endpoint.url} saved.")
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    return render(request, template, {"form": form, "endpoint": endpoint},
                  status=400 if form.is_bound else 200)


@ops_only
@require_POST
def endpoint_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn an endpoint off or on (the button says which)."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    active = request.POST.get("active") == "on"
    webhooks.set_active(endpoint, active)
    said = "on: new events go to it" if active else "off: nothing new goes to it"
    messages.success(request, f"{endpoint.url} is {said}.")
    return redirect("webhooks:endpoint", pk=pk)


@ops_only
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An endpoint and its deliveries, newest first, 50 a page."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    deliveries = endpoint.deliveries.select_related("event")
    try:
        rows, next_cursor = DELIVERIES_KEYSET.page(deliveries, "-id", request.GET.get("cursor"),
                                                   DELIVERIES_KEYSET.page_size)
    except ValidationError:
        messages.error(request, "That page link is out of date; showing the newest deliveries.")
        return redirect("webhooks:endpoint", pk=pk)
    labels = dict(WebhookEndpoint.Event.choices)
    return render(request, "webhooks/endpoint.html", {
        "endpoint": endpoint, "deliveries": rows, "next_cursor": next_cursor,
        "events": [(kind, labels.get(kind, "")) for kind in endpoint.events]})


@ops_only
@require_POST
def delivery_resend(request: HttpRequest, pk: int, delivery: int) -> HttpResponse:
    """"Send again": the same webhooks.resend as the API's, with the same event id."""
    row = get_object_or_404(WebhookDelivery, pk=delivery, endpoint_id=pk)
    webhooks.resend(row)
    messages.success(request, f"Delivery {row.pk} ({row.event_id}) is being sent again, with the same event id.")
    return redirect("webhooks:endpoint", pk=pk)
