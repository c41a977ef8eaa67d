"""Seed the category tree (大类/小类) from incidents.category_seed."""

from django.db import migrations

from incidents.category_seed import seed_categories


def seed(apps, schema_editor):
    seed_categories(apps.get_model("incidents", "Category"))


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
