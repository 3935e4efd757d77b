"""Record-level access for viewsets: read scope from `visible_to`, write scope from
`editable_by`. What a user may not see is a 404; what they may see but not change, a 403."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class ScopedViewSetMixin:
    model: type[Model]
    request: Request

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return self.model.objects.none()
        return self.model.objects.visible_to(self.request.user)  # type: ignore[attr-defined]

    def get_object(self) -> Any:
        obj = super().get_object()  # type: ignore[misc]
        if self.request.method not in SAFE_METHODS:
            check_editable(obj, self.request.user)
        return obj


def check_editable(obj: Model, user: Any) -> None:
    """403 unless `user` may change `obj` (its model's `editable_by`)."""
    if not type(obj).objects.editable_by(user).filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
        raise PermissionDenied(f"You may read this {obj._meta.verbose_name} but not change it.")


class IsOpsOrReadOnly(BasePermission):
    """Everyone signed in reads; only ops change (routing and scoring configuration)."""

    message = "Only Sales-Dev Ops may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.is_ops


class IsOps(BasePermission):
    message = "Only Sales-Dev Ops may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_ops)
