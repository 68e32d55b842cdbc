"""Every list and queue page reads the big tables through an index that serves its filter and its order.

How: each list page is requested as a user who sees it, and every SELECT the page actually sends is
captured on the engine ("before_cursor_execute"). Each captured SELECT is then explained with its own
parameters, and the plan must not

- read a big table in full: SQLite "SCAN <table>" without "USING INDEX"/"USING COVERING INDEX";
  PostgreSQL "Seq Scan on <table>";
- sort a page's rows out of a big table: SQLite "USE TEMP B-TREE FOR ORDER BY" beside a scan or search
  of a big table in a statement with a LIMIT; PostgreSQL a "Sort" node above a scan of a big table.

Why the plans are meaningful on the small test data:
- SQLite plans without statistics (nothing here runs ANALYZE), so it assumes every table is large and
  takes an index whenever one can serve: the plan shows what an index CAN do, as at a city's size.
- PostgreSQL does plan from statistics, and on a few demo rows a sequential scan is cheapest whether or
  not an index exists. So the check runs with enable_seqscan, enable_bitmapscan and enable_sort off:
  these do not forbid the nodes, they make them cost so much that the planner takes them only when no
  index can give the rows (or their order). A Seq Scan or Sort left in the plan is therefore one no
  index serves. (Bitmap scans are turned off because they return rows out of index order.)

Selectinload queries ("WHERE case_id IN (<the page's ids>)") carry no LIMIT: they read a page's worth
of rows whatever the register's size, so their small sort is allowed.
"""
import datetime as dt
import re

import pytest
from sqlalchemy import event, select

from tests import factories

BIG_TABLES = {
    "case_file", "case_unit", "case_party", "case_history", "material", "unit", "building", "parcel",
    "ownership", "right_holder", "mortgage", "mortgage_party", "pre_notice", "pre_notice_party", "party",
    "audit_log", "payment", "certificate", "archive_proof", "appointment", "tax_assessment", "sms_message",
    "email_message", "one_time_code",
}

# (user, url) of every list and queue page; the user is one the page is meant for. Left out: the unit
# search by 坐落 ("location contains ..."), which no B-tree index can serve; full-text search serves it.
PAGES = [
    ("bank_a_op", "/"),
    ("bank_a_op", "/caseview/list/"),
    ("bank_a_op", "/caseview/list/?page_CaseView=3"),
    ("bank_a_op", "/desk/office/todo"),
    ("bank_a_op", "/desk/office/done"),
    ("bank_a_op", "/desk/office/rejected"),
    ("bank_a_op", "/proofs/"),
    ("bank_a_op", "/pay/"),
    ("bank_a_op", "/mortgageview/list/"),
    ("bank_a_op", "/prenoticeview/list/"),
    ("bank_a_admin", "/"),
    ("bank_a_admin", "/auditlogview/list/"),
    ("reviewer", "/"),
    ("reviewer", "/review/"),
    ("reviewer", "/review/?node=pre_review"),
    ("reviewer", "/caseview/list/"),
    ("reviewer", "/unitview/list/"),
    ("reviewer", "/unitview/list/?_flt_0_building=1"),
    ("reviewer", "/buildingview/list/"),
    ("reviewer", "/rightview/list/"),
    ("reviewer", "/mortgageview/list/"),
    ("reviewer", "/prenoticeview/list/"),
    ("reviewer", "/partyview/list/"),
    ("reviewer", "/parcelview/list/"),
    ("reviewer", "/smsoutboxview/list/"),
    ("admin", "/auditlogview/list/"),
    ("public", "/appointments/"),
]

# Known and left: FAB's search form offers every row of a related table as a filter choice (the unit
# list's 楼栋, the building list's 宗地), reading that whole table on each list page. No index can serve
# "every row"; it needs a search-as-you-type choice instead (issue 10). Only that read is let through.
FILTER_CHOICES = {"/unitview/list/": "building", "/buildingview/list/": "parcel"}


def _filter_choices(url, sql):
    table = FILTER_CHOICES.get(url.split("?")[0])
    return table is not None and re.match(rf"SELECT {table}\.id AS {table}_id\b", sql.strip()) \
        and not re.search(r"\bWHERE\b|\bLIMIT\b", sql)


def _table(name):
    """The table behind a plan's name for it: SQLAlchemy aliases a table as <table>_<n>."""
    return re.sub(r"_\d+$", "", name)


def _page_in_storage_order(sql):
    """A page with no filter, in no order or in id order ("... FROM party ORDER BY party.id LIMIT 21"),
    reads its rows in storage order (SQLite: the rowid is the id) and stops after them: a bare scan
    there is not a full read. (A sort the id order would need shows as a temp B-tree, checked apart.)"""
    return re.search(r"\bLIMIT\b", sql) and not re.search(r"\bWHERE\b", sql) and (
        not re.search(r"\bORDER BY\b", sql) or re.search(r"\bORDER BY \w+\.id(?: ASC| DESC)?\s+LIMIT\b", sql))


def _sqlite_problems(conn, sql, params):
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    problems = []
    for _id, parent, _notused, detail in rows:
        m = re.match(r"(SCAN|SEARCH) (\w+)", detail)
        if m and _table(m.group(2)) in BIG_TABLES and m.group(1) == "SCAN" and "INDEX" not in detail \
                and not _page_in_storage_order(sql):
            problems.append(detail)
        if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail and re.search(r"\bLIMIT\b", sql):
            siblings = [d for _i, p, _n, d in rows if p == parent and re.match(r"(SCAN|SEARCH) (\w+)", d)]
            big = [d for d in siblings if _table(re.match(r"(SCAN|SEARCH) (\w+)", d).group(2)) in BIG_TABLES]
            if big:
                problems.append(f"{detail} over {big}")
    return problems, "\n".join(r[3] for r in rows)


def _postgres_problems(conn, sql, params):
    conn.exec_driver_sql("SET enable_seqscan = off")
    conn.exec_driver_sql("SET enable_bitmapscan = off")
    conn.exec_driver_sql("SET enable_sort = off")
    try:
        lines = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params).all()]
    finally:
        conn.exec_driver_sql("RESET ALL")
    problems = []
    for i, line in enumerate(lines):
        m = re.search(r"Seq Scan on (\w+)", line)
        if m and m.group(1) in BIG_TABLES and not _page_in_storage_order(sql):
            problems.append(line.strip())
        if re.match(r"(->\s+)?Sort\s+\(", line.strip()):  # a Sort node, not its "Sort Key:" line
            depth = len(line) - len(line.lstrip())
            below = []
            for deeper in lines[i + 1:]:
                if len(deeper) - len(deeper.lstrip()) <= depth:
                    break
                t = re.search(r"(?:Scan|Scan using \w+) on (\w+)", deeper)
                if t and t.group(1) in BIG_TABLES:
                    below.append(deeper.strip())
            if below and re.search(r"\bLIMIT\b", sql):
                problems.append(f"{line.strip()} over {below}")
    return problems, "\n".join(lines)


def _capture(app, client, user, url):
    from app.extensions import db
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, (user, url, response.status_code)
    return engine, seen, response.get_data(as_text=True)


def _touches_big_table(sql):
    return any(re.search(rf"\b{t}\b", sql) for t in BIG_TABLES)


def _check(app, client, user, url):
    client.auth.login(user)
    engine, statements, html = _capture(app, client, user, url)
    big = [(s, p) for s, p in statements if _touches_big_table(s) and not _filter_choices(url, s)]
    assert big, f"{url} read no big table: the page list above is out of date"
    explain = _postgres_problems if engine.dialect.name == "postgresql" else _sqlite_problems
    failures = []
    with engine.connect() as conn:
        for sql, params in big:
            problems, plan = explain(conn, sql, params)
            if problems:
                failures.append(f"{' '.join(sql.split())[:400]}\n  plan:\n    " + plan.replace("\n", "\n    ")
                                + f"\n  problems: {problems}")
    assert not failures, f"{user} {url}:\n" + "\n\n".join(failures)
    return html, [sql for sql, _params in statements]


@pytest.mark.parametrize("user,url", PAGES, ids=[f"{u}:{p}" for u, p in PAGES])
def test_list_pages_read_big_tables_through_indexes(app, client, user, url):
    _check(app, client, user, url)


def test_the_unit_lookups_read_through_indexes(app, client, db):
    """The desk's look-ups of units by a certificate, a mortgage proof and a building's survey number."""
    from models import Building, Institution, Mortgage, Right
    right = db.session.scalar(select(Right).where(Right.status == "current").order_by(Right.id))
    mortgage = db.session.scalar(select(Mortgage).where(Mortgage.status == "current").order_by(Mortgage.id))
    building = db.session.scalar(select(Building).where(Building.survey_number.is_not(None)).order_by(Building.id))
    assert right and mortgage and building, "the demo data lacks a record to look up"
    mortgagee = db.session.get(Institution, mortgage.institution_id)
    developer = factories.institution(db, "developer")
    lookups = [
        (right.unit.location, "bank_a_op", f"/desk/apply/mortgage_first/?certificate_number={right.certificate_number}"
                      f"&holder_id_number={right.holders[0].party.id_number}"),
        (mortgage.unit.location, "bank_a_op", f"/desk/apply/mortgage_cancel/?proof_number={mortgage.proof_number}"
                      f"&mortgagee_id_number={mortgagee.uscc}"),
        # a bank is not the obligor on record: the page refuses, but only after the look-up by survey number
        ("building.survey_number", "bank_a_op", f"/desk/apply/construction_mortgage_first/?survey_number={building.survey_number}"
                      f"&obligor_id_number={developer.uscc}"),
    ]
    for location, user, url in lookups:
        html, statements = _check(app, client, user, url)
        assert location in html or any(location in sql for sql in statements), f"{url} did not look up {location}"


def test_the_check_sees_a_full_scan_and_a_page_sort(app):
    """The checker itself: a filter and an order no index serves are reported, an indexed one is not."""
    from app.extensions import db
    with app.app_context():
        engine = db.engine
    explain = _postgres_problems if engine.dialect.name == "postgresql" else _sqlite_problems
    with engine.connect() as conn:
        unindexed, _plan = explain(conn, "SELECT id FROM case_file WHERE form_data IS NOT NULL "
                                         "ORDER BY finished_at LIMIT 20", {} if engine.dialect.name == "postgresql" else ())
        indexed, _plan = explain(conn, "SELECT id FROM case_file WHERE id = 1", {} if engine.dialect.name == "postgresql" else ())
    assert unindexed and not indexed, (unindexed, indexed)


def _cursor_pages():
    """(user, url) of pages reached by the pager's cursors: the page after (and before) a row of each
    keyset list, the same seek a deep page makes."""
    from app import paging
    from app.extensions import db
    from models import AuditLog, Case, Certificate, Operator, SmsMessage, Unit
    from views.desk import rejected_nodes
    op = db.session.scalar(select(Operator).where(Operator.username == "bank_a_op"))
    bank = op.institution_id
    lists = [  # user, path, list key, sort column, direction, the rows it lists
        ("bank_a_op", "/caseview/list/", "CaseView", Case.updated_at, "desc", Case.institution_id == bank),
        ("reviewer", "/caseview/list/", "CaseView", Case.updated_at, "desc", Case.id > 0),
        ("bank_a_op", "/desk/office/todo", "todo", Case.updated_at, "desc", Case.executor_id == op.id),
        ("bank_a_op", "/desk/office/done", "done", Case.submitted_at, "desc",
         (Case.applicant_id == op.id) & Case.submitted_at.is_not(None)),
        ("bank_a_op", "/desk/office/rejected", "rejected", Case.updated_at, "desc",
         (Case.applicant_id == op.id) & Case.node.in_(rejected_nodes())),
        ("reviewer", "/review/?node=pre_review", "review-pre_review", Case.submitted_at, "asc",
         (Case.executor_role == "RegistryReviewer") & (Case.node == "pre_review")),
        ("bank_a_op", "/proofs/", "proofs", Certificate.issued_at, "desc", Certificate.institution_id == bank),
        ("bank_a_admin", "/auditlogview/list/", "AuditLogView", AuditLog.at, "desc", AuditLog.institution_id == bank),
        ("admin", "/auditlogview/list/", "AuditLogView", AuditLog.at, "desc", AuditLog.id > 0),
        ("reviewer", "/unitview/list/", "UnitView", Unit.id, "asc", Unit.id > 0),
        ("reviewer", "/smsoutboxview/list/", "SmsOutboxView", SmsMessage.sent_at, "desc", SmsMessage.id > 0),
    ]
    out = []
    for user, path, key, column, direction, where in lists:
        model = column.class_
        order = column.asc() if direction == "asc" else column.desc()
        row = db.session.scalar(select(model).where(where).order_by(order, model.id).limit(1))
        assert row is not None, f"the demo data lists nothing on {path} for {user}"
        cursor = paging.cursor_for(key, column, direction, row)
        sep = "&" if "?" in path else "?"
        out += [(user, f"{path}{sep}after={cursor}"), (user, f"{path}{sep}before={cursor}")]
    return out


def _rows_for_every_list(db):
    """A row on each keyset list the demo data leaves empty: bank_a_op's cases in 待办, 已办, 已驳回 and
    预审, an issued certificate, an SMS."""
    from models import Certificate, SmsMessage, Unit
    from views.desk import rejected_nodes
    now = dt.datetime(2026, 12, 1, 10, 0)
    factories.case(db, "bank_a_op")
    done = factories.case(db, "bank_a_op", node="pre_review", executor_role="RegistryReviewer", submitted_at=now)
    done.executor_id = None
    factories.case(db, "bank_a_op", node=rejected_nodes()[0], submitted_at=now)
    unit = db.session.scalar(select(Unit).order_by(Unit.id))
    db.session.add(Certificate(number="湘(2026)长沙市不动产证明第9000001号", kind="proof", token="t" * 40, unit_id=unit.id,
                               case_id=done.id, institution_id=done.institution_id, holder_names="陈晓东"))
    db.session.add(SmsMessage(phone="13912345678", body="您的业务已受理", purpose="case_confirm"))
    db.session.commit()


def test_pages_by_cursor_read_big_tables_through_indexes(app, client, db):
    """Page 2 and any deeper page: the seek to the cursor's key is an index range, not a scan or a sort."""
    _rows_for_every_list(db)
    client.auth.login("bank_a_admin")  # a sign-in is audited: the institution's audit log has a row
    pages = _cursor_pages()
    for user, url in pages:
        _html, statements = _check(app, client, user, url)
        # the page's rows come from a seek past the cursor's key: "(sort column, id) < (?, ?)", "id > ?"
        assert any(re.search(r"\)\s*[<>]=?\s*\(|\.id\s*[<>]", sql) for sql in statements), url
