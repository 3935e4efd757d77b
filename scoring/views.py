"""The scoring rules page for ops (docs/rules.md §1): every rule of the MQL model with its
points and counting, each changed in place through scoring.services.update_rule (a new
version, an audit row, and a re-score in the background of the people it can touch)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sdrcrm import views

from . import services
from .models import ScoringRule, ScoringRuleChange

COUNTING_CHOICES = ScoringRule.COUNTING_CHOICES


class RuleForm(forms.Form):
    label = forms.CharField(max_length=200)
    points = forms.IntegerField(min_value=-services.MAX_POINTS, max_value=services.MAX_POINTS)
    counting = forms.ChoiceField(choices=COUNTING_CHOICES)


ops_only = views.ops_only("The scoring rules are Sales-Dev Ops' to change.")


@ops_only
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "scoring/rules.html", {
        "rules": ScoringRule.objects.order_by("condition", "-points", "key"),
        "counting": COUNTING_CHOICES,
        "changes": ScoringRuleChange.objects.select_related("rule", "by").order_by("-id")[:20],
    })


@ops_only
@require_POST
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(ScoringRule, pk=pk)
    form = RuleForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{rule.label} not changed. {field}: {errors[0]}")
        return redirect("scoring:rules")
    before = rule.version
    rule = services.update_rule(rule, form.cleaned_data, by=request.user)
    if rule.version == before:
        messages.info(request, f"{rule.label}: nothing changed.")
    else:
        messages.success(request, f"{rule.label} is now {rule.points} points (version {rule.version}); the people "
                                  "it touches are re-scored in the background.")
    return redirect("scoring:rules")
