"""The REST API router: every app's viewsets under /api/v1/."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from leads.api import AccountViewSet, ActivityViewSet, ContactViewSet, LeadViewSet
from leads.queue_api import TeamQueuesView
from leads.sequence_api import EnrollmentViewSet, SequenceViewSet
from opportunities.api import OpportunityViewSet
from opportunities.iqm_api import IQMViewSet
from routing.api import PoolViewSet, RuleSetViewSet, TerritoryViewSet
from scoring.api import ScoringRuleViewSet

from .access import IsOps
from .models import JobRun, Team, User
from .notifications import NotificationViewSet
from .serializers import JobRunSerializer, TeamSerializer, UserSerializer


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Ops manage users; anyone may read themselves at `users/me/`."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    permission_classes = [IsOps]
    ordering_fields = ["username", "id"]
    ordering = "username"
    filterset_fields = ["role", "team", "region", "is_available"]

    @action(detail=False, methods=["get"], permission_classes=[IsAuthenticated])
    def me(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)


class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    permission_classes = [IsOps]
    ordering_fields = ["name", "id"]
    ordering = "name"


class JobRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs of the periodic jobs, newest first."""

    serializer_class = JobRunSerializer
    ordering_fields = ["started_at"]
    ordering = "-started_at"
    filterset_fields = ["name", "state"]

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return JobRun.objects.none()
        if user.is_ops or user.is_manager:
            return JobRun.objects.all()
        return JobRun.objects.none()


@extend_schema(tags=["auth"])
class TokenView(ObtainAuthToken):
    """`POST` username and password; answers `{"token": …}`."""


router = DefaultRouter()
router.register("users", UserViewSet)
router.register("teams", TeamViewSet)
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("leads", LeadViewSet, basename="lead")
router.register("activities", ActivityViewSet, basename="activity")
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

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("dashboards/queues/", TeamQueuesView.as_view(), name="dashboard-queues"),
    *router.urls,
]
