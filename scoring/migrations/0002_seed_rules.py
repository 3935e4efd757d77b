from django.db import migrations


def seed(apps, schema_editor):
    from scoring.rule_table import BEHAVIOUR, PROFILE, behaviour_key

    ScoringRule = apps.get_model("scoring", "ScoringRule")
    for activity_type, points, counting, label in BEHAVIOUR:
        ScoringRule.objects.get_or_create(
            key=behaviour_key(activity_type),
            defaults={"activity_type": activity_type, "points": points, "counting": counting, "label": label},
        )
    for key, condition, points, label in PROFILE:
        ScoringRule.objects.get_or_create(key=key, defaults={"condition": condition, "points": points, "label": label})


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
