import time

from django.core.management.base import BaseCommand, CommandError

from govgrid.lib.progress import progress
from govgrid.synthetic.city import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    SCALES,
    CityInUse,
    build_city,
    city_exists,
    delete_city,
)


class Command(BaseCommand):
    help = (
        "Generate a synthetic city, deterministic from --seed: --scale demo (one district, "
        "about 60 grids) or --scale wuhan (16 districts, 16,274 grids)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--reset", action="store_true", help="delete the existing city (and all users) first"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when a city is already loaded"
        )
        parser.add_argument(
            "--no-incidents",
            action="store_true",
            help="areas, units and staff only (no incidents, residents or patrols)",
        )

    def handle(
        self,
        *args,
        scale: str,
        seed: int,
        reset: bool,
        if_empty: bool,
        no_incidents: bool,
        **options,
    ):
        if city_exists():
            if if_empty:
                self.stdout.write("A city is already loaded; nothing generated.")
                return
            if not reset:
                raise CommandError("A city is already loaded. Use --reset to replace it.")
            try:
                delete_city()
            except CityInUse as exc:
                raise CommandError(str(exc)) from exc
        started = time.monotonic()

        def bar(iterable, desc, total):
            return progress(iterable, desc=desc, total=total, stream=self.stderr)

        counts = build_city(
            scale_name=scale,
            seed=seed,
            progress=bar,
            incidents=not no_incidents,
            residents=not no_incidents,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated the {scale} city (seed {seed}) in {time.monotonic() - started:.1f} s: "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
        )
        self.stdout.write("Demo logins (password %s): %s" % (DEMO_PASSWORD, ", ".join(DEMO_LOGINS)))
