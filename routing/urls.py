"""The routing ops pages (`routing:`), included by sdrcrm/urls.py under /routing/."""

from django.urls import path

from . import views

app_name = "routing"

urlpatterns = [
    path("rules/", views.ruleset_list, name="rulesets"),
    path("rules/new/", views.ruleset_new, name="ruleset-new"),
    path("rules/<int:pk>/", views.ruleset_detail, name="ruleset"),
    path("rules/<int:pk>/activate/", views.ruleset_activate, name="ruleset-activate"),
    path("pools/", views.pool_list, name="pools"),
    path("pools/<int:pk>/", views.pool_edit, name="pool-edit"),
    path("users/<int:pk>/availability/", views.availability, name="availability"),
    path("territories/", views.territory_list, name="territories"),
    path("territories/<int:pk>/", views.territory_cover, name="territory-cover"),
    path("territories/new/", views.territory_save, name="territory-new"),
    path("territories/<int:pk>/edit/", views.territory_save, name="territory-edit"),
]
