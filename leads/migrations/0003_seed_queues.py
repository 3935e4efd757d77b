from django.db import migrations

QUEUES = {
    "Unassigned": "Leads no rule or territory could place; ops are alerted.",
    "Inquiry Queue": "Inquiries with no active sequence, collected nightly.",
    "Community Advocate Queue": "Education, open-source and startup program requests.",
    "Sales Admin": "Records anyone may adopt.",
}


def seed(apps, schema_editor):
    Queue = apps.get_model("leads", "Queue")
    for name, description in QUEUES.items():
        Queue.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
