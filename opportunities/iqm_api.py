"""`iqms/`: initial qualifying meetings (SPEC §7, §10)."""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from sdrcrm.access import ScopedViewSetMixin

from .models import IQM


class IQMSerializer(serializers.ModelSerializer):
    class Meta:
        model = IQM
        fields = "__all__"


class IQMViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model = IQM
    serializer_class = IQMSerializer
    ordering_fields = ["start", "created_at"]
    ordering = "-start"
