"""Seed the default Chinese templates (in-app and SMS for every event)."""

from django.db import migrations

from govgrid.notifications.template_seed import seed_templates


def seed(apps, schema_editor):
    seed_templates(apps.get_model("notifications", "NotificationTemplate"))


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
