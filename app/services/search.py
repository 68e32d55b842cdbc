"""Substring search ("contains") over the register's big text columns, served by an index on both engines.

`LIKE '%term%'` reads every row, so it grows with the register. The columns people search by
substring (坐落, names, certificate numbers) are indexed by trigrams instead (the migration
5ea4c81d0e7a creates the indexes):

- SQLite: FTS5 tables with the trigram tokenizer (`unit_fts` ...), "external content" tables kept
  in sync with the base tables by triggers. A term of 3 or more characters is a quoted phrase
  MATCHed against the column (case-insensitive, any characters, Chinese included).
- PostgreSQL: pg_trgm GIN indexes, which serve `ILIKE '%term%'` (in a UTF-8 database a trigram
  is three characters, so Chinese works the same way).

A term of 1 or 2 characters has no trigram, so no trigram index can serve it: it falls back to a
plain scan (`LIKE`/`ILIKE` on the base column). Such terms are rare for 坐落 and certificate numbers
and are still allowed (a two-character surname 王五 is a real search); the scan is the price.

Every function returns a SQLAlchemy clause on the model's own table (an `id IN (...)` subquery on
SQLite), to be added to the caller's ORM SELECT: the institution scope (app/scope.py) applies to
that SELECT as to any other.
"""
from sqlalchemy import Column, Integer, MetaData, Table, Text, or_, select

from app.extensions import db
from models import CaseParty, Certificate, Party, Unit

MIN_INDEXED = 3  # characters in a trigram: shorter terms cannot use the index
MAX_TERM = 100

# model -> its FTS5 table on SQLite (columns named as the model's). Kept out of the models' metadata:
# they exist only on SQLite and only through the migration.
_fts_metadata = MetaData()
FTS = {model: Table(f"{model.__tablename__}_fts", _fts_metadata, Column("rowid", Integer),
                    *(Column(c, Text) for c in columns))
       for model, columns in ((Unit, ("location",)), (Party, ("name",)), (CaseParty, ("name",)),
                              (Certificate, ("number", "holder_names")))}
FTS_TABLES = {t.name for t in FTS.values()}


def indexed(model, column: str) -> bool:
    fts = FTS.get(model)
    return fts is not None and column in fts.c


def contains(model, column: str, term: str):
    """A clause: `model.column` contains `term`, ignoring letter case, through the index when it can."""
    term = (term or "")[:MAX_TERM]
    attr = getattr(model, column)
    if _dialect() == "postgresql":
        return attr.ilike("%" + _escape(term) + "%", escape="/")
    return _fts_clause(model, column, term) if _fts_serves(model, column, term) else \
        attr.contains(term, autoescape=True)  # SQLite's LIKE already ignores ASCII case


def narrowing(model, column: str, term: str):
    """For a caller's own LIKE/ILIKE pattern built around `term` (starts with, ends with ...): a clause
    the SQLite index answers that keeps every row containing `term`, so the LIKE only checks those;
    None where it would not help (PostgreSQL's trigram index serves the ILIKE itself; a short term)."""
    term = (term or "")[:MAX_TERM]
    return _fts_clause(model, column, term) if _dialect() == "sqlite" and _fts_serves(model, column, term) else None


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _fts_serves(model, column, term) -> bool:
    return _dialect() == "sqlite" and indexed(model, column) and len(term) >= MIN_INDEXED


def _fts_clause(model, column, term):
    fts = FTS[model]
    phrase = '"' + term.replace('"', '""') + '"'  # a quoted FTS5 string: every character literal
    return model.id.in_(select(fts.c.rowid).where(fts.c[column].match(phrase)))


def units_matching(term: str):
    """Units whose 坐落 contains `term`."""
    return contains(Unit, "location", term)


def parties_matching(term: str):
    """Register parties (权利人 ...) whose name contains `term`."""
    return contains(Party, "name", term)


def case_parties_matching(term: str):
    """Parties of cases (申请人、义务人 ...) whose name contains `term`."""
    return contains(CaseParty, "name", term)


def certificates_matching(term: str, number: str | None = None):
    """Certificates whose number contains `number` (default: `term`) or whose holders' names contain `term`."""
    return or_(contains(Certificate, "number", term if number is None else number),
               contains(Certificate, "holder_names", term))


def _escape(term: str) -> str:
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")


def not_a_search_table(name, type_, parent_names) -> bool:
    """Alembic's include_name: the FTS tables and their shadow tables (unit_fts_data ...) are the
    migration's, not the models': autogenerate must neither drop nor report them."""
    return not (type_ == "table" and name and any(name == t or name.startswith(t + "_") for t in FTS_TABLES))
