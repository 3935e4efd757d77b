"""`/api/v1/accounts/`, and flagging an account as targeted."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from leads import accounts
from leads.models import Account
from sdrcrm.api.access import ScopedViewSetMixin
from sdrcrm.api.concurrency import ETagMixin
from sdrcrm.api.field_history import FieldHistoryMixin

from .filters import AccountFilter
from .serializers import AccountSerializer
from .trash import DeleteMixin


class TargetInput(serializers.Serializer):
    targeted = serializers.BooleanField(help_text="true flags the account as targeted by you; false unflags it")


class AccountViewSet(DeleteMixin, ETagMixin, FieldHistoryMixin, ScopedViewSetMixin, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin,
                     mixins.UpdateModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    ordering_fields = ["created_at", "updated_at", "name"]
    ordering = "name"

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = accounts.save_account(Account(created_by=self.request.user),
                                                    serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        accounts.save_account(serializer.instance, serializer.validated_data, by=self.request.user)

    @extend_schema(request=TargetInput, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def target(self, request: Request, pk: str | None = None) -> Response:
        """Flag (or unflag) the account as targeted by you. Any account you can read: SDRs
        target accounts to prospect into, not only those assigned to them (at most 40)."""
        data = TargetInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = get_object_or_404(self.get_queryset(), pk=pk)
        accounts.set_targeted(account, data.validated_data["targeted"], by=request.user)
        account.refresh_from_db()
        return Response(AccountSerializer(account, context={"request": request}).data)
