"""Schemes: checking what an admin wrote, the formula language, and scoring one subject.

A scheme is written on a 100-point scale; a group's full marks rescale it (a street group
out of 150 gets 1.5 × the points). Score on the 100 scale:

- weighted rates: Σ weight × rate over the rates the subject has (a rate with nothing to
  count, e.g. no rated case, is left out and the other weights share its part), plus the
  points items;
- base score: the base (e.g. 100) plus the points items (deductions are negative).

A points item is a formula over indicator codes (``-5 * yellow_cards``), clamped to ±cap.
The total never drops below 0. Manual adjustments come on top, in the group's points.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .indicators import RATES, codes_for
from .models import ItemKind, SchemeMethod

_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
)
_FUNCTIONS = {"min": min, "max": max}
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def formula_check(formula: str, kind: str) -> ast.Expression:
    """Parse a points formula; ValidationError naming the problem (unknown indicator, …)."""
    text = (formula or "").strip()
    if not text:
        raise ValidationError(_("Write a formula for a points item."), code="formula")
    try:
        tree = ast.parse(text.replace("×", "*").replace("÷", "/").replace("−", "-"), mode="eval")
    except SyntaxError as exc:
        raise ValidationError(
            _("The formula “%(formula)s” cannot be read."), code="formula", params={"formula": text}
        ) from exc
    known = set(codes_for(kind))
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, int | float)
        ):
            raise ValidationError(
                _(
                    "The formula “%(formula)s” may use only numbers, indicators, "
                    "+ − × ÷, min and max."
                ),
                code="formula",
                params={"formula": text},
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and node.args
        ):
            raise ValidationError(
                _("The formula “%(formula)s” may call only min() and max()."),
                code="formula",
                params={"formula": text},
            )
        if isinstance(node, ast.Name) and node.id not in _FUNCTIONS and node.id not in known:
            raise ValidationError(
                _("Unknown indicator “%(name)s” in the formula “%(formula)s”."),
                code="unknown_indicator",
                params={"name": node.id, "formula": text},
            )
    return tree


def formula_compile(formula: str, kind: str):
    """A callable values → points (checked first; division by zero gives 0)."""
    code = compile(formula_check(formula, kind), "<formula>", "eval")

    def run(values: dict) -> float:
        env = {k: (v if v is not None else 0) for k, v in values.items()}
        env.update(_FUNCTIONS)
        try:
            # Safe: the tree holds only arithmetic, known names and min/max (checked above).
            return float(eval(code, {"__builtins__": {}}, env))
        except ZeroDivisionError:
            return 0.0

    return run


@dataclass
class ItemSpec:
    """What a scheme item holds, as plain values (from the admin form or the database)."""

    name: str
    kind: str
    indicator: str = ""
    weight: Decimal | None = None
    formula: str = ""
    cap: Decimal | None = None


def scheme_check(*, method: str, kind: str, items: Iterable[ItemSpec]) -> None:
    """The rules of a scheme across its items; ValidationError listing every problem.

    Weighted: at least one weighted rate, weights above 0 summing to exactly 100 %. Base
    score: points items only. Every rate is one the subjects have; every formula parses
    and names known indicators only.
    """
    items = list(items)
    errors: list[ValidationError] = []
    weights = Decimal(0)
    weighted = 0
    for item in items:
        if item.kind == ItemKind.WEIGHT:
            weighted += 1
            if method != SchemeMethod.WEIGHTED:
                errors.append(
                    ValidationError(
                        _("“%(item)s”: a base-score scheme has no weighted rates; use a formula."),
                        params={"item": item.name},
                    )
                )
            rate = RATES.get(item.indicator)
            if rate is None or kind not in rate.kinds:
                errors.append(
                    ValidationError(
                        _("“%(item)s”: “%(indicator)s” is not a rate of this kind of subject."),
                        code="unknown_indicator",
                        params={"item": item.name, "indicator": item.indicator or "—"},
                    )
                )
            if item.weight is None or item.weight <= 0:
                errors.append(
                    ValidationError(
                        _("“%(item)s”: give a weight above 0 percent."), params={"item": item.name}
                    )
                )
            else:
                weights += item.weight
        else:
            try:
                formula_check(item.formula, kind)
            except ValidationError as exc:
                errors.append(
                    ValidationError(
                        _("“%(item)s”: %(error)s"),
                        code=exc.code,
                        params={"item": item.name, "error": " ".join(exc.messages)},
                    )
                )
    if method == SchemeMethod.WEIGHTED:
        if not weighted:
            errors.append(ValidationError(_("A weighted scheme needs at least one weighted rate.")))
        elif weights != HUNDRED:
            errors.append(
                ValidationError(
                    _("The weights add up to %(total)s percent; they must add up to 100 percent."),
                    code="weights",
                    params={"total": f"{weights.normalize():f}"},
                )
            )
    if errors:
        raise ValidationError(errors)


class Scorer:
    """Scores subjects of one scheme (formulas compiled once)."""

    def __init__(self, *, method: str, kind: str, base_score: Decimal, items: list[ItemSpec]):
        self.method = method
        self.base = Decimal(base_score)
        self.weighted = [i for i in items if i.kind == ItemKind.WEIGHT]
        self.points = [
            (i, formula_compile(i.formula, kind)) for i in items if i.kind != ItemKind.WEIGHT
        ]

    def score(self, values: dict, full_marks: Decimal) -> tuple[Decimal, list[dict]]:
        """(score in the group's points before adjustments, [{name, points}] per item)."""
        lines: list[dict] = []
        scale = Decimal(full_marks) / HUNDRED
        total = Decimal(0)
        if self.method == SchemeMethod.WEIGHTED:
            have = [(i, values.get(i.indicator)) for i in self.weighted]
            share = sum((i.weight for i, v in have if v is not None), Decimal(0))
            for item, value in have:
                if value is None or not share:
                    lines.append({"name": item.name, "points": None})
                    continue
                # The weights of missing rates are shared among the rates present.
                pts = item.weight * HUNDRED / share * Decimal(str(value))
                total += pts
                lines.append({"name": item.name, "points": _q(pts * scale)})
        else:
            total = self.base
            lines.append({"name": _("Base score"), "points": _q(self.base * scale)})
        for item, run in self.points:
            pts = Decimal(str(run(values)))
            if item.cap is not None:
                pts = max(-item.cap, min(item.cap, pts))
            total += pts
            lines.append({"name": item.name, "points": _q(pts * scale)})
        return Decimal(_q(max(Decimal(0), total) * scale)), lines


def _q(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))
