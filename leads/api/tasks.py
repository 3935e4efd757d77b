"""`/api/v1/tasks/`: the caller's own tasks (leads/today.py): list (open ones by default,
`?done=true` for the finished), add (about a lead or contact they may change), mark
done, snooze a day."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from leads import today as work
from leads.models import Contact, Lead, Task
from sdrcrm.ids import MAX_ID


class TaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "kind", "due_at", "owner", "lead", "contact", "opportunity", "enrollment", "step",
                  "done_at", "created_at"]
        read_only_fields = fields


class TaskInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Task.Kind.choices, default=Task.Kind.TODO)
    due_at = serializers.DateTimeField()
    lead = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    contact = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "lead" in attrs and "contact" in attrs:
            raise serializers.ValidationError({"contact": ["A task is about a lead or a contact, not both."]})
        return attrs


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TaskSerializer
    ordering_fields = ["due_at"]
    ordering = "due_at"
    filterset_fields = ["lead", "contact", "opportunity", "kind"]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        done = self.request.query_params.get("done") == "true"
        return Task.objects.filter(owner=self.request.user, done_at__isnull=not done).of_live_records()

    @extend_schema(parameters=[OpenApiParameter("done", bool, description="true: the finished tasks")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TaskInput, responses={201: TaskSerializer})
    def create(self, request: Request) -> Response:
        data = TaskInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        person = None
        for name, model in (("lead", Lead), ("contact", Contact)):
            if name in values:
                # A record one may not change is one the task may not be about: the same 404
                # as one that does not exist, so ids tell nothing.
                person = model.objects.editable_by(request.user).filter(pk=values[name]).first()
                if person is None:
                    raise NotFound(f"No {name} {values[name]} that you may change.")
        task = work.add_task(person, request.user, values["title"], values["kind"], values["due_at"])
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk: str | None = None) -> Response:
        task = self._open_task()
        work.complete(task, request.user)
        task.refresh_from_db()
        return Response(TaskSerializer(task).data)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        task = self._open_task()
        work.snooze(task)
        task.refresh_from_db()
        return Response(TaskSerializer(task).data)

    def _open_task(self) -> Task:
        pk = str(self.kwargs["pk"])
        task = work.open_tasks(self.request.user).filter(pk=pk).first() if pk.isdecimal() and len(pk) < 19 else None
        if task is None:
            raise NotFound("No open task of yours with this id.")
        return task
