"""Fill zh_Hans msgstrs from a JSON map {msgid: msgstr} and clear fuzzy flags.

    .venv/bin/python scripts/po_fill.py translations.json
Prints the msgids still untranslated afterwards.
"""

import json
import sys

import polib

PO = "locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> None:
    mapping = {}
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            mapping = json.load(f)
    po = polib.pofile(PO)
    for entry in po:
        if entry.msgid in mapping:
            entry.msgstr = mapping[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    po.save(PO)
    for entry in po.untranslated_entries() + po.fuzzy_entries():
        print(repr(entry.msgid))


if __name__ == "__main__":
    main()
