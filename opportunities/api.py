"""`opportunities/` and `opportunities/{id}/stage/` (SPEC §10)."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from sdrcrm.access import ScopedViewSetMixin

from .models import Opportunity
from .serializers import OpportunitySerializer


class OpportunityViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    model = Opportunity
    serializer_class = OpportunitySerializer
    ordering_fields = ["created_at", "stage_changed_at"]
    ordering = "-created_at"
