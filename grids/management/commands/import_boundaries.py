from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from govgrid.lib.progress import progress
from grids.services import BoundaryFileError, boundaries_import


class Command(BaseCommand):
    help = (
        "Import area boundaries (city to grid) from a GeoJSON FeatureCollection. Each feature "
        "has properties code, name and optionally level, parent_code, grid_type, valid_from, "
        "valid_to. Every problem is printed; a file with any problem writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="GeoJSON file (WGS-84)")
        parser.add_argument("--dry-run", action="store_true", help="validate only")
        parser.add_argument("--tolerance", type=float, default=None, help="overlap tolerance in m²")

    def handle(self, *args, path: str, dry_run: bool, tolerance: float | None, **options):
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc
        try:
            report = boundaries_import(
                raw=raw,
                dry_run=dry_run,
                tolerance_m2=tolerance,
                progress=lambda it: progress(it, desc=_("Writing areas"), stream=self.stderr),
            )
        except BoundaryFileError as exc:
            raise CommandError(str(exc)) from exc
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("%(n)s problem(s) in %(features)s features; nothing was written.")
                % {"n": len(report.problems), "features": report.features}
            )
        if dry_run:
            self.stdout.write(
                _("%(n)s features checked, no problem found.") % {"n": report.features}
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(created)s areas created, %(updated)s updated.")
                    % {"created": report.created, "updated": report.updated}
                )
            )
