"""The scoring rules page (`scoring:`), included by sdrcrm/urls.py under /scoring/."""

from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("rules/", views.rule_list, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
]
