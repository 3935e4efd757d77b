"""`/api/v1/contacts/`."""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from leads import people
from leads.models import Contact
from sdrcrm.api.access import ScopedViewSetMixin
from sdrcrm.api.concurrency import ETagMixin
from sdrcrm.api.field_history import FieldHistoryMixin

from .filters import SORTABLE, ContactFilter
from .serializers import ContactSerializer
from .trash import DeleteMixin


class ContactViewSet(DeleteMixin, ETagMixin, FieldHistoryMixin, ScopedViewSetMixin, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin,
                     mixins.UpdateModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = SORTABLE
    ordering = "-created_at"

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = people.create_contact(serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        people.update_person(serializer.instance, serializer.validated_data, by=self.request.user)
