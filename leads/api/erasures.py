"""`/api/v1/erasures/`: erase a person on request (leads/erasure.py), ops only.

`POST` `{"email", "requested_by", "requested_on"?}` erases every lead and contact with the
email and answers the erasure's record (201); `GET` lists erasures, newest first (keyset);
`POST {id}/lift/` lets the email be added again."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from leads import erasure
from leads.models import Erasure
from sdrcrm.api.access import IsOps


class ErasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Erasure
        fields = ["id", "email_hash", "requested_by", "requested_on", "erased_by", "erased_at", "leads", "contacts",
                  "lifted_by", "lifted_at"]
        read_only_fields = fields


class ErasureInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    requested_by = serializers.CharField(max_length=200, help_text="Who asked: the person, or who on their behalf.")
    requested_on = serializers.DateField(required=False, help_text="When they asked (default: today).")


class ErasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """People erased on request, and the blocks on their emails (ops only)."""

    permission_classes = [IsOps]
    serializer_class = ErasureSerializer
    queryset = Erasure.objects.all()
    ordering_fields = ["erased_at"]
    ordering = "-erased_at"

    @extend_schema(request=ErasureInput, responses={201: ErasureSerializer}, tags=["erasures"])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ErasureInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        record = erasure.erase_person(data["email"], data["requested_by"], by=request.user,
                                      requested_on=data.get("requested_on"))
        return Response(ErasureSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ErasureSerializer, tags=["erasures"])
    @action(detail=True, methods=["post"])
    def lift(self, request: Request, pk: str | None = None) -> Response:
        """Let the erased email be ingested and imported again."""
        return Response(ErasureSerializer(erasure.lift_block(self.get_object(), by=request.user)).data)
