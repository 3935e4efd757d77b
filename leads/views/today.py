"""The Today page and the one-click task actions (leads/today.py holds the rules)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads import today as work
from leads.models import Task
from sdrcrm.errors import Refused
from sdrcrm.local_time import shown

from .access import back_to_next, editable_lead
from .forms import TaskForm, first_error


@login_required
def today_page(request: HttpRequest) -> HttpResponse:
    """The day's four lists, the first rows of each (every row is actionable HTML: a long
    page is slow to render and to read); `?more=<list>` shows all of one."""
    more = request.GET.get("more", "")
    return render(request, "leads/today.html", {"today": work.today(request.user, whole=more)})


@login_required
@require_POST
def lead_task_add(request: HttpRequest, pk: int) -> HttpResponse:
    lead = editable_lead(request, pk)
    if lead is not None:
        form = TaskForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"No task added. {first_error(form)}")
        else:
            try:
                task = work.add_task(lead, request.user, form.cleaned_data["title"], form.cleaned_data["kind"],
                                     form.cleaned_data["due_at"])
            except Refused as exc:
                messages.error(request, f"No task added. {exc.message}")
            else:
                messages.success(request, f"Task added: {task.title}, due {shown(task.due_at)}.")
    return redirect("leads:detail", pk=pk)


def _back(request: HttpRequest) -> HttpResponse:
    return back_to_next(request) or redirect("leads:today")


def _answer(request: HttpRequest, task: Task, note: str) -> HttpResponse:
    """htmx (the Today page and a lead's tasks) swaps the task's row for one that says what
    happened; a plain form post goes back with the note as a message."""
    if request.headers.get("HX-Request") == "true":
        return render(request, "leads/_task_row.html", {
            "task": task, "done_note": note, "show_person": bool(request.POST.get("show_person"))})
    messages.success(request, note)
    return _back(request)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(work.open_tasks(request.user).select_related("lead", "contact", "opportunity"), pk=pk)
    work.complete(task, request.user)
    return _answer(request, task, f"Done: {task.title}.")


@login_required
@require_POST
def task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(work.open_tasks(request.user).select_related("lead", "contact", "opportunity"), pk=pk)
    task.due_at = work.snooze(task)
    return _answer(request, task, f"Snoozed: {task.title}, now due {shown(task.due_at)}.")
