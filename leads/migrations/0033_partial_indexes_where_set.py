"""Indexes that hold only the leads where their column is set: the queue (an owned lead has
none), the matched account, the contact converted to and who marked it as spam. Most leads
have none of these, and each write of a lead that is not a HOT update added an empty entry to
every one of them (routing's owner write, inside the pool's turn, among them)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FOREIGN_KEY_INDEXES = [
    ("leads_lead_account_id_d7b48dfa", "account_id"),
    ("leads_lead_converted_to_id_fba3e13c", "converted_to_id"),
    ("leads_lead_spam_marked_by_id_e47d3e53", "spam_marked_by_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0032_lead_search_updates_in_place"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="lead",
            name="lead_queue",
        ),
        # The foreign keys' own indexes are dropped by name: an AlterField would rebuild the
        # whole table on SQLite, and with it drop the search table's triggers (migration 0031).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="account",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="matched_leads",
                        to="leads.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="converted_to",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="converted_from",
                        to="leads.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="spam_marked_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f"DROP INDEX IF EXISTS {name}", f"CREATE INDEX {name} ON leads_lead ({column})")
                for name, column in FOREIGN_KEY_INDEXES
            ],
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("queue__isnull", False)),
                fields=["queue", "status_changed_at", "id"],
                name="lead_queued",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(condition=models.Q(("account__isnull", False)), fields=["account"], name="lead_account"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("converted_to__isnull", False)), fields=["converted_to"], name="lead_converted_to"
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("spam_marked_by__isnull", False)),
                fields=["spam_marked_by"],
                name="lead_spam_marked_by",
            ),
        ),
    ]
