"""`/api/v1/imports/`: import leads from a CSV or XLSX file (leads/imports.py).

`POST` (multipart): `file`, `kind` (`lead`, the default, or `contact`), `campaign` (the
list's campaign: each person of the run is put on it), `dry_run` (default true: check and
report, write nothing), `sheet` (an XLSX's sheet, when it has several), `mapping` (JSON:
the file's header → the field it fills, "" to leave a column out). The answer: the import's record (counts,
the mapping used, its state) and each rejected row's problems by column. A checked import
runs with `POST {id}/run/`; a big one runs on the worker, its progress in `GET {id}/`.
`GET` lists the caller's imports (ops: everyone's); `GET {id}/errors/` is the error file
(the rejected rows as they were, with their line and an error column)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from leads import imports
from leads.models import Import
from sdrcrm import exports

from .serializers import ContactSerializer, LeadSerializer, input_validator


def lead_validator(request: Any, kind: str = Import.Kind.LEAD) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An import row's fields checked as `POST leads/` (or `POST contacts/`, for a contacts'
    import) checks them, its problems raised as imports.Invalid: for the API and the pages."""
    person_input = input_validator(ContactSerializer if kind == Import.Kind.CONTACT else LeadSerializer, request,
                                   partial=True)

    def validate(data: dict[str, Any]) -> dict[str, Any]:
        try:
            return person_input.run_validation(data)
        except DRFValidationError as error:
            detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
            raise imports.Invalid({
                name: [str(message) for message in (messages if isinstance(messages, list) else [messages])]
                for name, messages in detail.items()}) from None

    return validate


class ImportSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True, help_text="How far the run has got, of the good rows.")

    class Meta:
        model = Import
        fields = ["id", "kind", "campaign", "file_name", "sha256", "size", "sheet", "mapping", "state", "rows", "good",
                  "rows_done", "percent", "created", "updated", "unchanged", "rejected", "created_by", "created_at",
                  "finished_at", "rows_cleared_at"]
        read_only_fields = fields


class ImportInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    kind = serializers.ChoiceField(choices=Import.Kind.choices, default=Import.Kind.LEAD)
    campaign = serializers.CharField(required=False, allow_blank=True, max_length=imports.CAMPAIGN_LENGTH, default="")
    dry_run = serializers.BooleanField(default=True)
    sheet = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    mapping = serializers.CharField(required=False, allow_blank=True, max_length=20_000, default="",
                                    help_text='JSON: {"<header>": "<field>" or ""}')

    def validate_mapping(self, value: str) -> dict[str, str]:
        if not value.strip():
            return {}
        try:
            mapping = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("The mapping is not JSON.") from None
        if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            raise serializers.ValidationError('The mapping is an object of "header": "field" strings.')
        return mapping


class ImportResult(serializers.Serializer):
    record = ImportSerializer()
    problems = serializers.ListField(child=serializers.DictField())


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Import.objects.none()
        return imports.imports_of(self.request.user).order_by("-id")

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={201: ImportResult}, tags=["imports"])
    def create(self, request: Request) -> Response:
        """Check (dry run) or import a CSV or XLSX of leads."""
        imports.check_importer(request.user)
        params = ImportInput(data=request.data)
        params.is_valid(raise_exception=True)
        upload = params.validated_data["file"]
        content = upload.read(imports.MAX_BYTES + 1)
        sheet = params.validated_data["sheet"]
        table = imports.read_table(upload.name or "", content, sheet)
        mapping = params.validated_data["mapping"]
        columns = imports.columns_of(table.headers, mapping, imports.saved_mapping(request.user))
        if mapping:
            imports.remember(request.user, mapping)
        kind = params.validated_data["kind"]
        outcome = imports.check(table, columns, request.user, lead_validator(request, kind),
                                file_name=upload.name or "", content=content, sheet=sheet, kind=kind,
                                campaign=params.validated_data["campaign"])
        record = outcome.record if params.validated_data["dry_run"] else imports.start(outcome.record)
        return Response({"record": ImportSerializer(record).data, "problems": outcome.problems},
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ImportSerializer, tags=["imports"])
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        """Run a checked import: its good rows are ingested (on the worker when big)."""
        return Response(ImportSerializer(imports.start(self.get_object())).data)

    @extend_schema(responses={(200, "text/csv"): str}, tags=["imports"])
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """The rejected rows as they were in the file, with an error column (CSV); 410 once
        the nightly prune has cleared the import's rows (IMPORT_ROWS_KEPT_DAYS after it finished)."""
        record = self.get_object()
        return exports.csv_response(f"import-{record.pk}-errors-{timezone.now():%Y%m%d-%H%M}.csv",
                                    [*record.headers, "line", "error"], imports.error_rows(record))
