"""`/api/v1/users/`, `teams/`, `auth/token/` and `auth/tokens/`: ops manage users and
teams; anyone reads themselves; a username and password buy an API token, listed and
revoked at auth/tokens/."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sdrcrm.models import ApiToken, Team, User

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


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                 help_text="What this token is for (a client, a device): shown in tokens/.")


class NewTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`; it is shown once.")
    name = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


@extend_schema(tags=["auth"], request=TokenInput, responses=NewTokenSerializer)
class TokenView(APIView):
    """`POST` a username and password (and a name for this client); answers `{"token": …}`,
    a new token of its own that expires after API_TOKEN_TTL_DAYS. Too many tries answer
    429 with Retry-After (sdrcrm/auth.py)."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()  # sdrcrm/auth.py throttles logins per address and per username

    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request=request, username=data.validated_data["username"],
                            password=data.validated_data["password"])
        if user is None:
            wait = getattr(request, "login_retry_after", 0)
            if wait:
                raise Throttled(wait, detail=f"Too many tries; try again in {wait} seconds.")
            raise ValidationError({"non_field_errors": ["Unable to log in with the username and password given."]})
        token, secret = ApiToken.objects.create(user=user, name=data.validated_data["name"])
        return Response({"token": secret, "name": token.name, "expiry": token.expiry})


class ApiTokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="digest", read_only=True, help_text="DELETE auth/tokens/{id}/ revokes it")
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "created", "expiry"]


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your API tokens (ops: everyone's, `?user=` for one), newest first, at most 500;
    `DELETE` revokes one at once."""

    serializer_class = ApiTokenSerializer
    lookup_field, lookup_url_kwarg = "digest", "id"
    pagination_class = None  # a person has a few; the list is capped
    filterset_fields = ["user"]

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        tokens = ApiToken.objects.select_related("user").order_by("-created")
        return tokens if self.request.user.is_ops else tokens.filter(user=self.request.user)

    def filter_queryset(self, queryset: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        queryset = super().filter_queryset(queryset)
        return queryset[:500] if self.action == "list" else queryset
