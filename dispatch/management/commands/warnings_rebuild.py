from django.core.management.base import BaseCommand

from dispatch.warnings import warnings_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the next warning time of every running phase (after thresholds changed, "
        "or after loading data by other means). The next scan records what is due."
    )

    def handle(self, *args, **options):
        n = warnings_rebuild()
        self.stdout.write(self.style.SUCCESS(f"{n} running phases rescheduled."))
