"""A sequence's next hand-done step is a task of its enrolment (leads/sequences.py
sync_step_task); the active enrolments of the day get theirs here, by the same rule."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

KINDS = {"call": "call", "manual_email": "email", "linkedin": "linkedin", "task": "todo"}
LABELS = {"call": "Call", "manual_email": "Manual email", "linkedin": "LinkedIn", "task": "Task"}


def add_step_tasks(apps, schema_editor):
    Enrollment, SequenceStep, Task = (apps.get_model("leads", name) for name in ("Enrollment", "SequenceStep", "Task"))
    steps = {(step.sequence_id, step.position): step for step in SequenceStep.objects.all()}
    tasks = []
    active = Enrollment.objects.filter(state="active").select_related("sequence", "lead", "contact")
    for enrollment in active.iterator(chunk_size=1000):
        person = enrollment.lead or enrollment.contact
        step = steps.get((enrollment.sequence_id, enrollment.current_step + 1))
        if step is None or step.type not in KINDS or person.owner_id is None:
            continue
        tasks.append(Task(
            enrollment=enrollment, step=step.position, kind=KINDS[step.type],
            title=f"{LABELS[step.type]}: step {step.position} of {enrollment.sequence.name}",
            due_at=enrollment.enrolled_at + timedelta(days=step.day_offset), owner_id=person.owner_id,
            created_by_id=enrollment.enrolled_by_id, lead_id=enrollment.lead_id, contact_id=enrollment.contact_id))
    Task.objects.bulk_create(tasks, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0019_bulk_actions_on_every_list'),
        ('opportunities', '0002_search_trigrams'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='task',
            name='enrollment',
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.CASCADE, related_name='tasks',
                                    to='leads.enrollment'),
        ),
        migrations.AddField(
            model_name='task',
            name='step',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='task',
            constraint=models.CheckConstraint(
                condition=models.Q(('enrollment__isnull', True), ('step__gte', 1), _connector='OR'),
                name='task_step_numbered'),
        ),
        migrations.AddConstraint(
            model_name='task',
            constraint=models.UniqueConstraint(fields=('enrollment', 'step'), name='task_step'),
        ),
        migrations.RunPython(add_step_tasks, migrations.RunPython.noop),
    ]
