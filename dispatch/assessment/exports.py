"""The month to Excel (openpyxl, streamed row by row) and the printable report's data."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from .indicators import COUNTERS, RATES, TOTALS, describe
from .models import AssessmentAdjustment, AssessmentRun
from .selectors import all_results, run_boards

PRINT_FULL_RANKING = 200  # groups up to this size are printed whole; larger ones top/bottom


def _sheet_title(name: str) -> str:
    # Excel refuses these characters in sheet names and more than 31 of them.
    return "".join("_" if c in "[]:*?/\\" else c for c in name)[:28]


def _percent(value):
    return None if value is None else round(float(value) * 100, 2)


def run_workbook(*, run: AssessmentRun) -> bytes:
    """One sheet with every ranking, one per scheme with every subject's figures, the
    definitions and the adjustments. Rates are in percent."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    schemes = {s["id"]: s for s in run.schemes}
    groups = {g["id"]: g for s in run.schemes for g in s["groups"]}
    ranking = wb.create_sheet(_("Ranking"))
    ranking.append(
        [
            _("Month"),
            _("Version"),
            _("Status"),
            _("Scheme"),
            _("Ranking group"),
            _("Rank"),
            _("Name"),
            _("Area"),
            _("Cases"),
            _("Computed score"),
            _("Adjustment"),
            _("Score"),
            _("Full marks"),
            _("Last two months running"),
        ]
    )
    per_scheme: dict[int, object] = {}
    codes_of: dict[int, list[str]] = {}
    status = str(run.get_status_display())
    for r in all_results(run=run).iterator(chunk_size=2000):
        scheme = schemes.get(r.scheme_id, {"name": str(r.scheme_id)})
        ranking.append(
            [
                f"{run.month:%Y-%m}",
                run.version,
                status,
                scheme["name"],
                groups.get(r.group_id, {}).get("name", ""),
                r.rank if r.is_ranked else _("not ranked"),
                r.subject_name,
                r.subject_area,
                r.case_count,
                float(r.computed_score),
                float(r.adjustment),
                float(r.score),
                float(r.full_marks),
                _("yes") if r.is_last_twice else "",
            ]
        )
        if r.scheme_id not in per_scheme:
            codes = [c for c in r.figures if c in COUNTERS or c in RATES or c in TOTALS]
            codes_of[r.scheme_id] = codes
            sheet = wb.create_sheet(_sheet_title(scheme["name"]) or str(r.scheme_id))
            sheet.append(
                [_("Name"), _("Area"), _("Ranking group"), _("Rank"), _("Score")]
                + [f"{describe(c)[0]} (%)" if c in RATES else str(describe(c)[0]) for c in codes]
            )
            per_scheme[r.scheme_id] = sheet
        per_scheme[r.scheme_id].append(
            [
                r.subject_name,
                r.subject_area,
                groups.get(r.group_id, {}).get("name", ""),
                r.rank,
                float(r.score),
            ]
            + [
                _percent(r.figures.get(c)) if c in RATES else r.figures.get(c)
                for c in codes_of[r.scheme_id]
            ]
        )
    definitions = wb.create_sheet(_("Definitions"))
    definitions.append([_("Code"), _("Indicator"), _("Definition")])
    for code in [*COUNTERS, *RATES, *TOTALS]:
        label, text = describe(code)
        definitions.append([code, str(label), str(text)])
    adjustments = wb.create_sheet(_("Adjustments"))
    adjustments.append(
        [_("Scheme"), _("Subject"), _("Points"), _("Reason"), _("By"), _("Recorded at")]
    )
    for a in AssessmentAdjustment.objects.filter(run=run).select_related("actor"):
        adjustments.append(
            [
                schemes.get(a.scheme_id, {}).get("name", ""),
                a.subject_key,
                float(a.points),
                a.reason,
                str(a.actor or ""),
                a.at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def report_context(*, run: AssessmentRun) -> dict:
    """Boards, whole rankings of small groups, the definitions used and the adjustments."""
    boards = run_boards(run=run)
    full: dict[tuple[int, int], list] = {}
    small = {(b.scheme_id, b.group_id) for b in boards if b.listed <= PRINT_FULL_RANKING}
    if small:
        for r in all_results(run=run).filter(
            scheme_id__in={s for s, _g in small}, group_id__in={g for _s, g in small}
        ):
            if (r.scheme_id, r.group_id) in small:
                full.setdefault((r.scheme_id, r.group_id), []).append(r)
    for b in boards:
        b.rows = full.get((b.scheme_id, b.group_id))
    used = []
    for s in run.schemes:
        for item in s["items"]:
            used.append({"scheme": s["name"], **item})
    return {
        "run": run,
        "boards": boards,
        "items": used,
        "definitions": [(c, *describe(c)) for c in [*RATES, *TOTALS, *COUNTERS]],
        "adjustments": list(AssessmentAdjustment.objects.filter(run=run).select_related("actor")),
    }
