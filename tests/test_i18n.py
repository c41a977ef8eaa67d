"""Every interface string is translatable and both catalogues are complete."""

import subprocess
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ["zh_Hans", "en"]


@pytest.mark.parametrize("lang", CATALOGUES)
def test_catalogue_is_complete(lang):
    po = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert len(po) > 100


def test_catalogue_covers_every_string_in_the_code(tmp_path):
    """makemessages on the current tree finds no msgid the committed catalogue lacks."""
    committed = {e.msgid for e in polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))}
    out = tmp_path / "django.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--keyword=gettext_noop",
            "--keyword=gettext_lazy",
            "--keyword=ngettext_lazy:1,2",
            "--keyword=pgettext:1c,2",
            "--keyword=_",
            "--keyword=gettext",
            "--from-code=UTF-8",
            "-o",
            str(out),
            *[
                str(p)
                for p in ROOT.glob("*/**/*.py")
                if ".venv" not in p.parts
                and "tests" not in p.parts
                and "bench" not in p.parts
                and "migrations" not in p.parts
            ],
        ],
        check=True,
        cwd=ROOT,
    )
    found = {e.msgid for e in polib.pofile(str(out)) if e.msgid}
    missing = sorted(found - committed)
    assert not missing, f"strings missing from the catalogue (run make messages): {missing[:10]}"


def test_chinese_translations_use_chinese():
    po = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    has_cjk = [
        e for e in po.translated_entries() if any("\u4e00" <= ch <= "\u9fff" for ch in e.msgstr)
    ]
    assert len(has_cjk) / len(po.translated_entries()) > 0.9
