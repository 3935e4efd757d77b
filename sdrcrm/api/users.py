"""`/api/v1/users/`, `teams/` and `auth/token/`: ops manage users and teams; anyone reads
themselves; a username and password buy an API token."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from sdrcrm.models import Team, User

from .access import IsOps
from .serializers import TeamSerializer, UserSerializer


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


@extend_schema(tags=["auth"])
class TokenView(ObtainAuthToken):
    """`POST` username and password; answers `{"token": …}`."""
