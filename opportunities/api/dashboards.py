"""`GET /api/v1/dashboards/sao/`: the SAO dashboard of opportunities/dashboards.py as JSON.
Rates and quotas are fractions in the service; here they are decimals to three places."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opportunities import dashboards, quota
from sdrcrm.ids import MAX_ID


class SaoInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=quota.PERIODS, default=quota.MONTH)
    start = serializers.DateField(required=False, help_text="any day of the period; default: today")
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    sdr = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


@extend_schema_field({"type": "number", "format": "double", "nullable": True})
class Ratio(serializers.Field):
    """A fraction as a decimal number to three places (null for none)."""

    def to_representation(self, value: Fraction | None) -> float | None:
        return None if value is None else round(float(value), 3)


class FiguresSerializer(serializers.Serializer):
    saos = serializers.IntegerField()
    sclau = serializers.IntegerField(help_text="SAOs on large-segment accounts")
    sqos = serializers.IntegerField()
    iqms_held = serializers.IntegerField()
    iqms_to_sao = serializers.IntegerField()
    iqm_to_sao = Ratio(help_text="IQMs held that became SAOs, over IQMs held")
    pipeline_iacv = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="IACV of the period's SAOs")
    won_iacv = serializers.DecimalField(max_digits=16, decimal_places=2)
    quota = Ratio(help_text="SAOs expected, with the ramp")
    attainment = Ratio(help_text="SAOs over quota; null without a quota")
    projection = Ratio(help_text="SAOs at the end of the period at the pace so far")
    dials = serializers.IntegerField()
    emails = serializers.IntegerField()
    dials_per_day = Ratio(help_text=f"per working day, against {dashboards.DAILY_DIALS}")
    emails_per_day = Ratio(help_text=f"per working day, against {dashboards.DAILY_EMAILS}")


class DaySerializer(serializers.Serializer):
    day = serializers.DateField()
    dials = serializers.IntegerField()
    emails = serializers.IntegerField()
    working = serializers.BooleanField(help_text="a working day in the SDR's region")


class SdrRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="sdr.pk")
    username = serializers.CharField(source="sdr.username")
    name = serializers.CharField(source="sdr.get_full_name")
    team = serializers.IntegerField(source="sdr.team_id", allow_null=True)
    ramp_month = serializers.IntegerField(allow_null=True)
    figures = FiguresSerializer()
    days = serializers.SerializerMethodField(help_text="dials and emails on each day of the period so far")

    @extend_schema_field(DaySerializer(many=True))
    def get_days(self, row: dashboards.SdrRow) -> list[dict[str, Any]]:
        # Plain dicts: a quarter holds about 90 days per SDR; a nested serializer per day
        # took 13 ms for a quarter of the bench team, plain dicts 2.5 ms.
        return [{"day": day.day.isoformat(), "dials": day.dials, "emails": day.emails, "working": day.working}
                for day in row.days]


class TeamRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team.pk", allow_null=True, default=None)
    name = serializers.CharField(source="team.name", default="No team")
    sdrs = serializers.IntegerField()
    figures = FiguresSerializer()


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    first = serializers.DateField()
    last = serializers.DateField()
    label = serializers.CharField()


class FunnelRowSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="the leads' initial source")
    label = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(),
                                   help_text=f"by stage: {', '.join(dashboards.STAGES)}")
    rates = serializers.DictField(child=Ratio(), help_text="each stage's share of the stage before")
    days = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                 help_text="median days from the stage before")
    sclau = serializers.IntegerField(help_text="its SAOs on large-segment accounts")


class SaoDashboardSerializer(serializers.Serializer):
    period = PeriodSerializer()
    today = serializers.DateField(help_text="in the company's time zone")
    sdrs = SdrRowSerializer(source="rows", many=True)
    teams = TeamRowSerializer(many=True)
    total = FiguresSerializer()
    funnel = FunnelRowSerializer(many=True, help_text="the period's MQLs by initial source, and how far they got")


class SaoDashboardView(APIView):
    """SAOs, SQOs, IQMs, pipeline, quota attainment and activity per SDR and team for a
    month or quarter: an SDR sees their own row, a manager their teams', ops everyone's."""

    @extend_schema(parameters=[SaoInput], responses=SaoDashboardSerializer, tags=["dashboards"])
    def get(self, request: Request) -> Response:
        params = SaoInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        board = dashboards.sao_dashboard(request.user, data["period"], data.get("start"), data.get("team"),
                                         data.get("sdr"))
        return Response(SaoDashboardSerializer(board).data)
