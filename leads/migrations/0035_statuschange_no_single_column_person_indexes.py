"""The status history's single-column person indexes are dropped: statuschange_lead and
statuschange_contact lead with the same column, and every move wrote each one for nothing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0034_activity_no_single_column_person_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='statuschange',
            name='contact',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='leads.contact'),
        ),
        migrations.AlterField(
            model_name='statuschange',
            name='lead',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='leads.lead'),
        ),
    ]
