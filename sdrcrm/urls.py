"""Every route: the pages (each app's urls.py, included here) and the REST API under
/api/v1/ (every app's viewsets, registered on one router)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from leads import urls as lead_urls
from leads.api.accounts import AccountViewSet
from leads.api.activities import ActivityViewSet
from leads.api.contacts import ContactViewSet
from leads.api.erasures import ErasureViewSet
from leads.api.imports import ImportViewSet
from leads.api.leads import LeadViewSet
from leads.api.queues import TeamQueuesView
from leads.api.sequences import EnrollmentViewSet, SequenceViewSet
from leads.api.tasks import TaskViewSet
from leads.api.trash import DeletedListView, RestoreView
from opportunities.api.dashboards import SaoDashboardView
from opportunities.api.iqms import IQMViewSet
from opportunities.api.opportunities import OpportunityViewSet
from opportunities.views.dashboards import funnel_leads_page, sao_dashboard_page
from routing.api import PoolViewSet, RuleSetViewSet, TerritoryViewSet
from scoring.api import ScoringRuleViewSet

from . import passwords, views, webhook_pages
from .api.jobs import JobRunViewSet
from .api.notifications import NotificationViewSet
from .api.search import SearchView
from .api.users import ApiTokenViewSet, TeamViewSet, TokenView, UserViewSet
from .api.webhooks import WebhookEndpointViewSet
from .forms import LoginForm

handler404 = views.not_found
handler500 = views.server_error

router = DefaultRouter()
# Ingest's two routes first, and the router's routes first under /api/v1/, itself the
# first route: Django tries the routes in order and copies every one it tried into the
# match (0.05 ms a request when they came sixth and seventh). See INGEST_ROUTES too.
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
router.register("users", UserViewSet)
router.register("teams", TeamViewSet)
router.register("auth/tokens", ApiTokenViewSet, basename="apitoken")
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("tasks", TaskViewSet, basename="task")
router.register("imports", ImportViewSet, basename="import")
router.register("erasures", ErasureViewSet, basename="erasure")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("sequences", SequenceViewSet, basename="sequence")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("iqms", IQMViewSet, basename="iqm")
router.register("jobs", JobRunViewSet, basename="jobrun")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("scoring/rules", ScoringRuleViewSet)
router.register("routing/pools", PoolViewSet)
router.register("routing/territories", TerritoryViewSet)
router.register("routing/rules", RuleSetViewSet, basename="ruleset")

# The router lists a viewset's routes together: activities/ came after the thirty routes
# of a lead (its detail and actions), each tried by its regex before it.
INGEST_ROUTES = ("lead-list", "activity-list")
api_patterns = [
    *sorted(router.urls, key=lambda route: route.name not in INGEST_ROUTES),  # stable: the rest keep their order
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("dashboards/queues/", TeamQueuesView.as_view(), name="dashboard-queues"),
    path("dashboards/sao/", SaoDashboardView.as_view(), name="dashboard-sao"),
    path("search/", SearchView.as_view(), name="api-search"),
    path("deleted/", DeletedListView.as_view(), name="api-deleted"),
    path("deleted/<str:kind>/<int:id>/restore/", RestoreView.as_view(), name="api-restore"),
]

# The webhooks' ops pages (`webhooks:`), the API's /api/v1/webhooks/ as pages.
webhook_patterns = [
    path("", webhook_pages.endpoint_list, name="list"),
    path("new/", webhook_pages.endpoint_new, name="new"),
    path("<int:pk>/", webhook_pages.endpoint_detail, name="endpoint"),
    path("<int:pk>/edit/", webhook_pages.endpoint_edit, name="edit"),
    path("<int:pk>/active/", webhook_pages.endpoint_active, name="active"),
    path("<int:pk>/deliveries/<int:delivery>/resend/", webhook_pages.delivery_resend, name="resend"),
]

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("leads/", include((lead_urls.lead_patterns, "leads"))),
    path("accounts/", include((lead_urls.account_patterns, "accounts"))),
    path("contacts/", include((lead_urls.contact_patterns, "contacts"))),
    path("bulk/", include(lead_urls.bulk_patterns)),
    path("deleted/", include(lead_urls.trash_patterns)),
    path("opportunities/", include("opportunities.urls")),
    path("routing/", include("routing.urls")),
    path("scoring/", include("scoring.urls")),
    path("dashboards/sao/", sao_dashboard_page, name="sao-dashboard"),
    path("dashboards/sao/leads/", funnel_leads_page, name="funnel-leads"),
    path("search/", views.search_page, name="search"),
    path("lookups/<slug:kind>/", views.lookup, name="lookup"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("webhooks/", include((webhook_patterns, "webhooks"))),
    path("jobs/", views.job_runs, name="job-runs"),
    path("jobs/<slug:name>/run/", views.job_run_now, name="job-run-now"),
]
