"""The single-column indexes of these references go: each is the leading part of a longer
index on its table (or of a unique constraint), which finds the same rows, so it only cost
every write of the table (tests/sdrcrm/test_no_redundant_indexes.py).

Only the plain index Django made for each reference is dropped. AlterField(db_index=False)
would drop every single-column index of the column that is not in Meta.indexes, a partial
unique constraint's too (enrollment_one_active_lead was lost that way): so the state
changes by AlterField, and the database by `drop_plain_indexes`, which drops only the
index Django made for the reference."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_plain_indexes(app_label, fields):
    """Drop the index Django made for each (model, field) of `app_label` (named as Django
    names a reference's index); recreate it on the way back."""

    def plain_index(apps, schema_editor, model_name, field_name):
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
        return model, field, schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="")

    def drop(apps, schema_editor):
        for model_name, field_name in fields:
            _, _, name = plain_index(apps, schema_editor, model_name, field_name)
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps, schema_editor):
        for model_name, field_name in fields:
            model, field, _ = plain_index(apps, schema_editor, model_name, field_name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.RunPython(drop, create)


FIELDS = [
    ("bulkaction", "by"),
    ("campaignmember", "contact"),
    ("campaignmember", "lead"),
    ("contact", "account"),
    ("enrollment", "contact"),
    ("enrollment", "lead"),
    ("enrollment", "sequence"),
    ("import", "created_by"),
    ("importmapping", "user"),
    ("importrow", "batch"),
    ("queuetally", "owner"),
    ("sequenceevent", "enrollment"),
    ("sequencestep", "sequence"),
    ("task", "contact"),
    ("task", "lead"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0036_import_rows_cleared_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='bulkaction',
                    name='by',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='bulk_actions', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='campaignmember',
                    name='contact',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='leads.contact'),
                ),
                migrations.AlterField(
                    model_name='campaignmember',
                    name='lead',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='leads.lead'),
                ),
                migrations.AlterField(
                    model_name='contact',
                    name='account',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='contacts', to='leads.account'),
                ),
                migrations.AlterField(
                    model_name='enrollment',
                    name='contact',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='leads.contact'),
                ),
                migrations.AlterField(
                    model_name='enrollment',
                    name='lead',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='leads.lead'),
                ),
                migrations.AlterField(
                    model_name='enrollment',
                    name='sequence',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='enrollments', to='leads.sequence'),
                ),
                migrations.AlterField(
                    model_name='import',
                    name='created_by',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='importmapping',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='importrow',
                    name='batch',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='leads.import'),
                ),
                migrations.AlterField(
                    model_name='queuetally',
                    name='owner',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='sequenceevent',
                    name='enrollment',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='leads.enrollment'),
                ),
                migrations.AlterField(
                    model_name='sequencestep',
                    name='sequence',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='leads.sequence'),
                ),
                migrations.AlterField(
                    model_name='task',
                    name='contact',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='tasks', to='leads.contact'),
                ),
                migrations.AlterField(
                    model_name='task',
                    name='lead',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='tasks', to='leads.lead'),
                ),
            ],
            database_operations=[drop_plain_indexes("leads", FIELDS)],
        ),
    ]
