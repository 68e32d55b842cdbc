"""Paging that does not grow with the data: keyset (seek) pages and capped counts, for every list.

A page is the next `size` rows in the list's order (its sort column, then the id as tiebreaker) after
the last row of the page before: the link carries that row's key as a signed cursor (`?after=`, or
`?before=` for the page before), and the query seeks to it through the index that serves the order
instead of counting and skipping rows (OFFSET). A count reads at most REGISTRY_LIST_COUNT_CAP + 1 rows:
"共 10,000+ 条" beyond it.

NULLs: a nullable sort column's NULLs come where the database puts them (SQLite: below every value,
PostgreSQL: above), and a page that runs out of one block goes on in the other with a second query,
so every condition stays a plain index range.
"""
import datetime as dt
import weakref
from functools import lru_cache
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup, escape
from sqlalchemy import and_, bindparam, func, select, tuple_
from werkzeug.exceptions import BadRequest

from app.extensions import db
from app.url_memo import url_for_memo

DEFAULT_COUNT_CAP = 10000
MAX_PAGE_SIZE = 100
BAD_CURSOR = _l("This page link is damaged or was not made by the platform. Go back to the first page of the list.")
BAD_ORDER = _l("This list cannot be sorted by that column.")


class BadListLink(BadRequest):
    """A 400 whose error page says what was wrong with the list's link (app/errors.py reads page_text)."""

    def __init__(self, text):
        super().__init__(description=str(text))
        self.page_text = text


@dataclass
class Page:
    rows: list
    size: int
    next_cursor: str | None = None  # the key of the last row, when more rows follow
    prev_cursor: str | None = None  # the key of the first row, when rows come before it
    total: "Count" = None  # exact up to the cap
    args: dict = field(default_factory=dict)  # the list's other query arguments, kept by the pager's links

    @property
    def is_first(self):
        """No cursor in the URL: the list's first page (the pager then offers no 首页)."""
        return not (self.args.get("after") or self.args.get("before"))

    def link(self, **cursor):
        """The URL of this list with its filters and order and the given cursor (none: the first page)."""
        args = {k: v for k, v in self.args.items() if k not in ("after", "before") and not k.startswith("page")}
        args.update(cursor)
        # the list's own URL (kept) and its arguments, encoded as url_for encodes them (werkzeug's _urlencode)
        base = url_for_memo(request.endpoint, **(request.view_args or {}))
        query = urlencode([(k, v) for k, v in args.items() if v is not None], safe="!$'()*,/:;?@")
        return f"{base}?{query}" if query else base

    def pager_html(self):
        """The pager of every list: 首页 / 上一页 / 下一页 by cursor; none when all rows fit one page."""
        if not (self.prev_cursor or self.next_cursor or not self.is_first):
            return Markup("")

        def item(label, cls, rel="", **cursor):
            if cursor and not all(cursor.values()):
                return f'<li class="disabled"><span>{escape(label)}</span></li>'
            return f'<li><a href="{escape(self.link(**cursor))}" class="{cls}"{rel}>{escape(label)}</a></li>'
        first = f'<li class="disabled"><span>{escape(_("First page"))}</span></li>' if self.is_first \
            else item(_("First page"), "pager-first")
        prev = item(_("Previous page"), "pager-prev", ' rel="prev"', before=self.prev_cursor)
        after = item(_("Next page"), "pager-next", ' rel="next"', after=self.next_cursor)
        return Markup(f'<ul class="pagination pagination-sm list-pager">{first}{prev}{after}</ul>')

    def total_html(self):
        """共 N 条 (capped: 共 10,000+ 条)."""
        if self.total is None:
            return Markup("")
        return Markup(f'<span class="text-muted list-total">{escape(_("%(n)s in all", n=self.total))}</span>')


def count_cap():
    return int(current_app.config.get("REGISTRY_LIST_COUNT_CAP", DEFAULT_COUNT_CAP))


class Count(int):
    """A row count, exact up to the cap; beyond it the cap itself with capped=True. Reads as
    "10,000+" then (str), so every template shows "共 10,000+ 条" without knowing about the cap."""
    capped = False

    def __new__(cls, n, cap):
        self = super().__new__(cls, min(n, cap))
        self.capped = n > cap
        return self

    def __str__(self):
        return f"{int(self):,}" + ("+" if self.capped else "")

    def __add__(self, other):  # a sum of counts (the workbench's todo) stays "at least" when one is
        total = Count(int(self) + int(other), 2**62)
        total.capped = self.capped or getattr(other, "capped", False)
        return total

    __radd__ = __add__


def capped_count(query, cap=None, params=None):
    """The Count of a SELECT (2.0 select() or legacy Query): exact up to `cap` rows, read from a
    LIMIT cap+1 subquery of its ids, so a count never reads more than cap+1 index entries."""
    return capped_counts([query], cap, params)[0]


def capped_counts(queries, cap=None, params=None):
    """[Count] of several SELECTs in ONE statement (a UNION ALL of capped counts): the review queue's tabs."""
    if not queries:
        return []
    cap = count_cap() if cap is None else cap
    parts = []
    for q in queries:
        stmt = q.statement if hasattr(q, "statement") else q
        inner = stmt.order_by(None).with_only_columns(*_pk_columns(stmt)).limit(cap + 1).subquery()
        parts.append(select(func.count()).select_from(inner))
    if len(parts) == 1:
        counts = [db.session.scalar(parts[0], params)]
    else:
        counts = [n for (n,) in db.session.execute(parts[0].union_all(*parts[1:]), params)]
    return [Count(n, cap) for n in counts]


def capped_count_column(query, cap=None):
    """capped_count as a column: a scalar subquery another statement reads with its rows."""
    cap = count_cap() if cap is None else cap
    stmt = query.statement if hasattr(query, "statement") else query
    inner = stmt.order_by(None).with_only_columns(*_pk_columns(stmt)).limit(cap + 1).subquery()
    return select(func.count()).select_from(inner).scalar_subquery().label("counted")


# {statement: {key: a statement made from it}} (derived below)
_DERIVED = weakref.WeakKeyDictionary()


def derived(base, key, build):
    """build(base), made once per (base, key) while `base` lives. A list whose query is built once,
    with bind parameters for what changes per request (paginate's `params`), gets the same ordered,
    limited and counted statements on every request: building them, and SQLAlchemy working out each
    new statement's cache key, was a tenth of a list page's time. `build` must not keep `base` itself
    (a copy made from it is fine), or the entry would outlive it."""
    memo = _DERIVED.get(base)
    if memo is None:
        memo = _DERIVED.setdefault(base, {})
    made = memo.get(key)
    if made is None:
        made = memo[key] = build(base)
    return made


def _pk_columns(stmt):
    """The primary key of the SELECT's first entity: what the count's subquery reads (an index, not rows)."""
    entity = stmt.column_descriptions[0]["entity"]
    return [getattr(entity, c.key) for c in entity.__mapper__.primary_key]


def _serializer():
    """The cursors' signer, one per secret key (building one derives its key)."""
    return _signer(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _signer(secret):
    return URLSafeSerializer(secret, salt="registry-list-cursor")


def _encode_value(v):
    if isinstance(v, dt.datetime):
        return ["t", v.isoformat()]
    if isinstance(v, dt.date):
        return ["d", v.isoformat()]
    if isinstance(v, dt.time):
        return ["h", v.isoformat()]
    if isinstance(v, Decimal):
        return ["n", str(v)]
    return ["v", v]  # str, int, float, bool, None: JSON as they are


def _decode_value(tagged):
    kind, raw = tagged
    return {"t": dt.datetime.fromisoformat, "d": dt.date.fromisoformat, "h": dt.time.fromisoformat,
            "n": Decimal}.get(kind, lambda x: x)(raw) \
        if raw is not None else None


def make_cursor(key, order, row_value, row_id):
    return _signed_cursor(current_app.config["SECRET_KEY"], key, order, row_value, row_id)


@lru_cache(maxsize=4096, typed=True)  # a list's first pages are asked for again and again: sign each cursor once
def _signed_cursor(secret, key, order, row_value, row_id):
    return _signer(secret).dumps([key, order, _encode_value(row_value), row_id])


def cursor_for(key, column, direction, row):
    """The cursor of `row` in the list `key` ordered by `column` `direction` (the pager's, a bench's)."""
    return make_cursor(key, _order_name(column, direction), getattr(row, column.key), row.id)


def _order_name(column, direction):
    return f"{column.key}.{direction}"


def read_cursor(key, order):
    """("after"|"before", value, id) from the request's cursor, or None for the first page. A cursor
    that is not ours is a 400 with a sentence; one made for another order or list (the sort header's
    link keeps the arguments) starts again at the first page."""
    for which in ("after", "before"):
        raw = request.args.get(which)
        if raw is None:
            continue
        try:
            c_key, c_order, value, row_id = _serializer().loads(raw)
            value = _decode_value(value)
            if not isinstance(row_id, int) or isinstance(row_id, bool):
                raise ValueError(row_id)
        except (BadData, ValueError, TypeError, KeyError):
            raise BadListLink(BAD_CURSOR) from None
        if c_key != key or c_order != order:
            return None
        return which, value, row_id
    return None


def page_size(requested=None, default=20):
    """A page size from the URL (FAB's psize_<View>), at most MAX_PAGE_SIZE rows."""
    return max(1, min(int(requested or default), MAX_PAGE_SIZE))


def paginate(query, column, direction, fetch, *, key, size, tiebreak=None, count=True, total=None, nullable=None,
             fetch_counted=None, params=None):
    """One keyset page of `query` (a select() or a legacy Query) ordered by `column` `direction`
    ("asc"/"desc"), then the id. fetch(query, params) -> rows runs a limited query (it adds its
    loader options) with the bind parameters `params`. A query given with params (not None) is built
    once, its per-request values bound by name: its page statements are made once too (derived).
    key names the list in its cursors. The count is capped (capped_count) unless `total` is given or
    count is False. nullable=False: the query's filter already excludes NULLs of the column.
    fetch_counted(query, count_column) -> (rows, count): the page's first statement reads the capped
    count too, as a scalar subquery column (one statement fewer; a statement costs SQLAlchemy ~0.2 ms)."""
    tiebreak = tiebreak if tiebreak is not None else _id_of(column)
    if nullable is None:
        nullable = any(c.nullable for c in column.property.columns)
    cursor = read_cursor(key, _order_name(column, direction))
    which, value, row_id = cursor or ("after", None, None)
    forward = direction if which == "after" else ("desc" if direction == "asc" else "asc")
    stable = params is not None
    params = dict(params or {})
    made = derived if stable else (lambda base, _key, build: build(base))
    cap = count_cap()
    counted, pending = [], [made(query, ("count", cap), lambda q: capped_count_column(q, cap))] \
        if fetch_counted and total is None and count else []

    def fetch_page(q):  # the count with the first statement only (a page crossing the NULL block reads on)
        if not pending:
            return fetch(q, params)
        rows, n = fetch_counted(q, pending.pop(), params)
        if rows:  # no row (a page past the end): counted on its own below
            counted.append(n)
        return rows
    rows = _seek(query, column, tiebreak, forward, None if cursor is None else (value, row_id), size + 1,
                 nullable, fetch_page, made, params)
    more = len(rows) > size
    rows = rows[:size]
    if which == "before":
        rows.reverse()
    page = Page(rows=rows, size=size, args=request.args.to_dict())
    if rows:
        first, last = rows[0], rows[-1]
        ahead, behind = (more, cursor is not None) if which == "after" else (True, more)
        if ahead:
            page.next_cursor = cursor_for(key, column, direction, last)
        if behind:
            page.prev_cursor = cursor_for(key, column, direction, first)
    if total is not None or not count:
        page.total = total
    else:
        page.total = Count(counted[0], cap) if counted else capped_count(query, cap, params)
    return page


def _id_of(column):
    mapper = column.class_.__mapper__
    (pk,) = mapper.primary_key
    return getattr(column.class_, pk.key)


def _nulls_high():
    """PostgreSQL sorts NULL above every value, SQLite below."""
    return db.session.get_bind().dialect.name == "postgresql"


def _seek(query, column, tiebreak, direction, after, limit, nullable, fetch, made, params):
    """Up to `limit` rows in (column, id) order `direction` strictly after the key `after` (None: from
    the start), as plain index ranges: one query, or two when the page crosses the NULL block. The
    key is bound by name (:seek_value, :seek_id, put in `params`, which fetch reads), so a statement
    serves every cursor."""
    asc = direction == "asc"
    keys = (column,) if column is tiebreak else (column, tiebreak)  # sorted by the id alone: no tiebreaker
    ordered = made(query, ("order", str(column), str(tiebreak), asc),
                   lambda q: q.order_by(None).order_by(*(k.asc() if asc else k.desc() for k in keys)))
    if after is None:
        return list(fetch(made(ordered, ("first", limit), lambda q: q.limit(limit))))
    value, row_id = after
    params.update(seek_value=value, seek_id=row_id)
    nulls_first = asc != _nulls_high()  # where the NULL block sits in this direction
    seek_id = bindparam("seek_id", type_=tiebreak.type)
    if value is None:
        phases = [("nulls", lambda: and_(column.is_(None), tiebreak > seek_id if asc else tiebreak < seek_id))]
        if nulls_first:
            phases.append(("values", lambda: column.is_not(None)))
    else:
        def past():
            bound = bindparam("seek_value", type_=column.type)
            left, right = (column, bound) if column is tiebreak else (tuple_(column, tiebreak), tuple_(bound, seek_id))
            return left > right if asc else left < right
        phases = [("past", past)]
        if nullable and not nulls_first:
            phases.append(("null block", lambda: column.is_(None)))
    rows = []
    for name, condition in phases:
        if len(rows) >= limit:
            break
        n = limit - len(rows)
        rows += fetch(made(ordered, (name, n), lambda q: q.where(condition()).limit(n)))
    return rows
