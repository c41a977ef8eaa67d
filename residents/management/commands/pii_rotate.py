"""Re-encrypt personal data under the first key of GOVGRID_PII_KEYS (docs/residents.md)."""

from django.core.management.base import BaseCommand

from govgrid.lib.progress import progress_counter
from residents import services
from residents.models import KeyPerson, Organisation, Person


class Command(BaseCommand):
    help = "Re-encrypt every identity number, phone and sensitive field under the newest key."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, batch: int, **options):
        total = Person.objects.count() + Organisation.objects.count() + KeyPerson.objects.count()
        with progress_counter(desc="pii_rotate", total=total, stream=self.stdout) as bar:
            done = services.pii_rotate(batch=batch, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"{done} rows re-encrypted."))
