from django.db import migrations


def seed(apps, schema_editor):
    from dispatch.assessment.seed import seed_schemes

    seed_schemes(
        apps.get_model("dispatch", "AssessmentScheme"),
        apps.get_model("dispatch", "SchemeItem"),
        apps.get_model("dispatch", "SchemeGroup"),
    )


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0005_assessment")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
