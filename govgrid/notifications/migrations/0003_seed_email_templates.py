"""Default e-mail templates for every event (the in-app text with a signature)."""

from django.db import migrations


def forward(apps, schema_editor):
    from govgrid.notifications.template_seed import seed_templates

    seed_templates(apps.get_model("notifications", "NotificationTemplate"))


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_seed_templates")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
