"""`GET /api/v1/dashboards/queues/`: the team queues of leads/queues.py as JSON."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import queues


class QueuesInput(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1, help_text="one of the teams you watch; default: all")


class CellSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    oldest = serializers.DateTimeField(allow_null=True, help_text="the oldest status change (breaches: due time)")


class SdrQueuesSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="sdr.pk")
    username = serializers.CharField(source="sdr.username")
    name = serializers.CharField(source="sdr.get_full_name")
    views = serializers.DictField(source="view_cells", child=CellSerializer(), help_text="by view key")
    sla_breaches = CellSerializer(source="breaches")


class BreachSerializer(serializers.Serializer):
    lead = serializers.IntegerField(source="pk")
    email = serializers.CharField()
    name = serializers.CharField(source="full_name")
    owner = serializers.IntegerField(source="owner_id")
    sla_due_at = serializers.DateTimeField()
    sla_breached_at = serializers.DateTimeField()


class QueueSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="queue.pk")
    name = serializers.CharField(source="queue.name")
    count = serializers.IntegerField(source="waiting.count")
    oldest = serializers.DateTimeField(source="waiting.oldest", allow_null=True)


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class ViewRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class TeamQueuesSerializer(serializers.Serializer):
    team = serializers.IntegerField(source="team.pk", allow_null=True, default=None)
    teams = TeamRefSerializer(many=True, help_text="the teams you watch")
    counted_at = serializers.DateTimeField(help_text="when the counts were taken (every minute); the breaches are live")
    stale = serializers.BooleanField(help_text="the counting job has not run for five minutes")
    views = serializers.SerializerMethodField()
    sdrs = SdrQueuesSerializer(source="rows", many=True)
    breaches = BreachSerializer(source="breached", many=True, help_text=f"the {queues.BREACHES_SHOWN} oldest")
    queues = QueueSerializer(many=True)

    @extend_schema_field(ViewRefSerializer(many=True))
    def get_views(self, board: queues.TeamQueues) -> list[dict[str, str]]:
        return [{"key": key, "label": label} for key, label in board.views]


class TeamQueuesView(APIView):
    """Managers and ops: per SDR of the team, the count and oldest lead of every view and
    the SLA breaches; the oldest breaches; what waits in the shared queues."""

    @extend_schema(parameters=[QueuesInput], responses=TeamQueuesSerializer, tags=["dashboards"])
    def get(self, request: Request) -> Response:
        params = QueuesInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        board = queues.team_queues(request.user, params.validated_data.get("team"))
        return Response(TeamQueuesSerializer(board).data)
