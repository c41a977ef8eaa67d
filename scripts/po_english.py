"""The English catalogue repeats the English msgids: msgstr = msgid, nothing fuzzy."""

import polib

PO = "locale/en/LC_MESSAGES/django.po"

po = polib.pofile(PO)
for entry in po:
    if entry.msgid_plural:
        entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
    else:
        entry.msgstr = entry.msgid
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
    entry.previous_msgid = None
po.save(PO)
