"""`/api/v1/jobs/`: runs of the periodic jobs, for managers and ops."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from sdrcrm.models import JobRun

from .serializers import JobRunSerializer


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
