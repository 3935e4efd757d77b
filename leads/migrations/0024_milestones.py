"""A person's first Accepted and first Qualifying times (Person.accepted_at, qualifying_at),
written from now on by the status move itself, filled here from the status history: a
lead's own moves, and for a converted lead also the moves its contact made since the lead
was created (conversion moves the history to the contact). Nullable columns: adding them
rewrites nothing; the fill updates only the people with such a move."""

from django.db import migrations, models

FIRST = {"accepted_at": "accepted", "qualifying_at": "qualifying"}
LEADS = """
UPDATE leads_lead SET {column} = (
    SELECT MIN(s.at) FROM leads_statuschange s
    WHERE s.new = '{status}' AND (s.lead_id = leads_lead.id OR (
        leads_lead.converted_to_id IS NOT NULL AND s.contact_id = leads_lead.converted_to_id
        AND s.at >= leads_lead.created_at)))
WHERE id IN (SELECT lead_id FROM leads_statuschange WHERE new = '{status}' AND lead_id IS NOT NULL)
   OR converted_to_id IN (SELECT contact_id FROM leads_statuschange WHERE new = '{status}' AND contact_id IS NOT NULL)
"""
CONTACTS = """
UPDATE leads_contact SET {column} = (
    SELECT MIN(s.at) FROM leads_statuschange s WHERE s.new = '{status}' AND s.contact_id = leads_contact.id)
WHERE id IN (SELECT contact_id FROM leads_statuschange WHERE new = '{status}' AND contact_id IS NOT NULL)
"""


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for column, status in FIRST.items():
            cursor.execute(LEADS.format(column=column, status=status))
            cursor.execute(CONTACTS.format(column=column, status=status))


class Migration(migrations.Migration):
    dependencies = [("leads", "0023_queue_tally")]
    operations = [
        *(migrations.AddField(model, column, models.DateTimeField(blank=True, null=True))
          for model in ("lead", "contact") for column in FIRST),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
