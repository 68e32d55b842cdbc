"""Catalog tooling: `python -m app.i18n compile|check|sync-en`.

translations/ holds the zh and en catalogs (one per area under translations/<area>/ so parallel
work does not collide); all share the `messages` domain and are merged by Flask-Babel.
"""
import sys
from pathlib import Path

from babel.messages import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app", "views", "models")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def catalogs(locale):
    return sorted((ROOT / "translations").glob(f"**/{locale}/LC_MESSAGES/messages.po"))


def compile_all():
    for po_path in catalogs("zh") + catalogs("en"):
        with open(po_path, "rb") as f:
            catalog = read_po(f)
        with open(po_path.with_suffix(".mo"), "wb") as f:
            write_mo(f, catalog)


def extracted():
    """Every msgid in the source, with the first place it appears."""
    found = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
                ROOT / folder, METHODS, keywords=KEYWORDS,
                options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{folder}/{filename}:{lineno}")
    return found


def translated(locale):
    table = {}
    for po_path in catalogs(locale):
        with open(po_path, "rb") as f:
            for msg in read_po(f):
                if msg.id and msg.string and not msg.fuzzy:
                    table[msg.id if isinstance(msg.id, str) else msg.id[0]] = msg.string
    return table


def missing(locale):
    have = translated(locale)
    return {m: where for m, where in extracted().items() if m not in have}


def sync_en():
    """English is the source language: the en catalog is every msgid translated to itself."""
    catalog = Catalog(locale="en")
    for msgid in sorted(extracted()):
        catalog.add(msgid, msgid)
    path = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=0, omit_header=True)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "compile":
        compile_all()
    elif command == "sync-en":
        sync_en()
        compile_all()
    else:
        gaps = missing("zh")
        for msgid, where in sorted(gaps.items(), key=lambda kv: kv[1]):
            print(f"{where}\t{msgid}")
        sys.exit(1 if gaps else 0)
