"""Re-encrypt personal data under the first key of GOVGRID_PII_KEYS (docs/residents.md)."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from residents import services
from residents.models import KeyPerson, Organisation, Person


class Command(BaseCommand):
    help = "Re-encrypt every identity number, phone and sensitive field under the newest key."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, batch: int, **options):
        total = Person.objects.count() + Organisation.objects.count() + KeyPerson.objects.count()
        stream = getattr(self.stdout, "_out", self.stdout)
        with tqdm(total=total, desc="pii_rotate", file=stream, dynamic_ncols=True) as bar:
            done = services.pii_rotate(batch=batch, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"{done} rows re-encrypted."))
