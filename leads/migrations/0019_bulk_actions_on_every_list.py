"""Bulk actions on every list: a bulk action names which records it holds (leads,
contacts, accounts, opportunities), and accounts can be marked or unmarked targeted."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0018_lead_owner_sla")]

    operations = [
        migrations.RenameField("bulkaction", "lead_ids", "record_ids"),
        migrations.AddField(
            "bulkaction", "record",
            models.CharField(choices=[("lead", "lead"), ("contact", "contact"), ("account", "account"),
                                      ("opportunity", "opportunity")], default="lead", max_length=20)),
        migrations.AlterField(
            "bulkaction", "kind",
            models.CharField(choices=[("assign", "Assign owner"), ("status", "Change status"),
                                      ("enrol", "Enrol in a sequence"), ("target", "Mark targeted"),
                                      ("untarget", "Unmark targeted")], max_length=20)),
    ]
