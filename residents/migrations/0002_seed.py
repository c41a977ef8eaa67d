"""Seed the code lists and key-person groups from residents.seed."""

from django.db import migrations

from residents.seed import seed_residents


def seed(apps, schema_editor):
    seed_residents(
        apps.get_model("residents", "Dictionary"),
        apps.get_model("residents", "KeyGroup"),
        apps.get_model("residents", "KeyGroupGrant"),
    )


class Migration(migrations.Migration):
    dependencies = [("residents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
