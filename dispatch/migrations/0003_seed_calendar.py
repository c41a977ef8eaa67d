"""Seed the working-day calendar from the chinese_calendar package (holidays and 调休 days)."""

from django.db import migrations


def seed_calendar(apps, schema_editor):
    # _seed takes the model class, so this runs against the historical model, not the live one.
    from dispatch.calendar import _seed

    _seed(apps.get_model("dispatch", "CalendarDay"))


class Migration(migrations.Migration):
    # After 0002_initial, not only 0001_initial: both would otherwise be leaf nodes and
    # `migrate` would stop with "Conflicting migrations detected".
    dependencies = [
        ("dispatch", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(seed_calendar, migrations.RunPython.noop),
    ]
