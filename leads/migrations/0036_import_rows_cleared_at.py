"""When the nightly history_prune deleted an import's rows (its counts stay)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0035_statuschange_no_single_column_person_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="import",
            name="rows_cleared_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
