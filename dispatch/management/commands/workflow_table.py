"""Print the closed loop's state table (dispatch/workflow.py) as Markdown, in a language.

manage.py workflow_table --language zh-hans > docs/workflow.md
"""

from django.core.management.base import BaseCommand
from django.utils import translation

from dispatch.workflow import ACTIONS, STATE_LABELS
from govgrid.accounts.models import Role


def render_table() -> str:
    def states(names) -> str:
        return "、".join(str(STATE_LABELS[s]) for s in sorted(names, key=list(STATE_LABELS).index))

    lines = [
        "| action | from | to | who | needs | on the incident |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for a in ACTIONS.values():
        to = str(STATE_LABELS[a.target]) if a.target else "—"
        who = "、".join(str(Role(r).label) for r in sorted(a.roles))
        lines.append(
            f"| {a.label} (`{a.name}`) | {states(a.sources)} | {to} | {who} | "
            f"{', '.join(a.requires) or '—'} | {a.party} |"
        )
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the state table of the closed loop as Markdown."

    def add_arguments(self, parser):
        parser.add_argument("--language", default="zh-hans")

    def handle(self, *args, language: str, **options):
        with translation.override(language):
            self.stdout.write(render_table(), ending="")
