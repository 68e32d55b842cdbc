"""The reviewer's view: fee (应缴/已缴) and tax status on every queue row and on the case page, the
reasons a transition would be refused shown before its button is pressed, a queue page whose SQL
does not grow with its rows, and a workbench that counts exactly what the queues count."""
import datetime as dt
import re
import secrets
from decimal import Decimal

from sqlalchemy import event, select

from app.extensions import db as _db
from models import Case, CaseParty, CaseUnit, Payment, TaxAssessment, Unit
from tests import factories

REVIEWER = "RegistryReviewer"


def login(client, username):
    page = client.auth.login(username).get_data(as_text=True)
    assert "/logout" in page, f"{username} could not sign in"
    return page


def _free_units(db, n, use="residential"):
    used = select(CaseUnit.unit_id)
    return db.session.scalars(select(Unit).where(Unit.use == use, Unit.id.not_in(used)).order_by(Unit.id).limit(n)).all()


def queued_case(db, node, units, business_key="mortgage_first", paid=None, tax=None,
                submitted_at=dt.datetime(2026, 1, 5, 9, 0)):
    """A case of bank A waiting for the registry at `node`, with `paid` yuan paid and per-unit tax rows
    in state `tax` ("pending"/"cleared") when given."""
    case = factories.case(db, "bank_a_op", business_key=business_key, node=node,
                          submitted_at=submitted_at)
    case.executor_id, case.executor_role = None, REVIEWER
    for unit in units:
        db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={"price": "1000000.00"}))
    db.session.add(CaseParty(case_id=case.id, role="debtor", name="孙悦", id_type="1", id_number="11010519491231002X"))
    if paid is not None:
        db.session.add(Payment(order_number=f"PAYT{secrets.token_hex(6)}", case_id=case.id, amount=Decimal(paid),
                               institution_id=case.institution_id, status="paid", items=[]))
    for unit in units if tax else ():
        db.session.add(TaxAssessment(case_id=case.id, unit_id=unit.id, institution_id=case.institution_id,
                                     reference=f"TAXT{secrets.token_hex(6)}", price=Decimal("1000000.00"),
                                     rate=Decimal("0.03"), amount=Decimal("30000.00"), buyers=[], status=tax))
    db.session.commit()
    return case


def _row(html, number):
    row = re.search(rf'<tr class="case-row" data-number="{number}">(.*?)</tr>', html, re.S)
    assert row, f"{number} is not on the page"
    return row.group(1)


def test_each_queue_row_shows_fees_due_and_paid(client, db):
    # Two units, each its own 件 (a transfer counts per unit; one loan on one parcel would be one 件).
    paid = queued_case(db, "pre_review", _free_units(db, 2), business_key="second_hand_transfer", paid="80.00")
    unpaid = queued_case(db, "pre_review", _free_units(db, 1))
    login(client, "reviewer")
    html = client.get("/review/?node=pre_review").get_data(as_text=True)
    assert "应缴/已缴" in html
    assert re.search(r"应缴 160\.00 / 已缴 80\.00", _row(html, paid.number))
    assert re.search(r"应缴 80\.00 / 已缴 0\.00", _row(html, unpaid.number))


def test_a_queue_row_of_a_transfer_shows_its_tax_status(client, db):
    pending = queued_case(db, "pre_review", _free_units(db, 1), business_key="second_hand_transfer", tax="pending")
    cleared = queued_case(db, "pre_review", _free_units(db, 1), business_key="second_hand_transfer", tax="cleared")
    unassessed = queued_case(db, "pre_review", _free_units(db, 1), business_key="second_hand_transfer")
    no_tax = queued_case(db, "pre_review", _free_units(db, 1))
    login(client, "reviewer")
    html = client.get("/review/?node=pre_review").get_data(as_text=True)

    def tax_cell(case):
        return re.search(r'<td[^>]*class="tax-status"[^>]*>(.*?)</td>', _row(html, case.number), re.S).group(1)

    assert "未完税" in tax_cell(pending) and "30000.00" in tax_cell(pending)
    assert "已完税" in tax_cell(cleared)
    assert "未核税" in tax_cell(unassessed)
    assert tax_cell(no_tax) == "—"


def test_an_unpaid_fee_is_named_next_to_a_disabled_record_button(client, db):
    case = queued_case(db, "approved", _free_units(db, 1))
    login(client, "reviewer")
    html = client.get(f"/review/case/{case.id}/").get_data(as_text=True)
    assert re.search(r'id="event-record"[^>]*disabled', html), "the record button should be disabled"
    guards = re.search(r'<ul class="guard-problems" id="guards-record">(.*?)</ul>', html, re.S)
    assert guards and "登记费 80.00 元尚未缴纳" in guards.group(1)
    assert re.search(r'id="case-fees">.*应缴 80\.00', html, re.S)
    # Showing the reasons fired nothing: the case is where it was, at the same version.
    db.session.expire_all()
    again = db.session.get(Case, case.id)
    assert (again.node, again.version) == ("approved", case.version)
    # Once paid, the same page offers the button with no reason against it.
    db.session.add(Payment(order_number=f"PAYT{secrets.token_hex(6)}", case_id=case.id, amount=Decimal("80.00"),
                           institution_id=case.institution_id, status="paid", items=[]))
    db.session.commit()
    html = client.get(f"/review/case/{case.id}/").get_data(as_text=True)
    assert not re.search(r'id="event-record"[^>]*disabled', html)
    assert 'id="guards-record"' not in html and "尚未缴纳" not in html
    assert "已缴清" in html


def _statements(app, client, url):
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen


def test_the_queue_page_needs_the_same_few_statements_for_one_row_or_twenty(app, client, db):
    login(client, "reviewer")
    queued_case(db, "accepted", _free_units(db, 1), business_key="second_hand_transfer", paid="80.00", tax="cleared")
    client.get("/review/?node=accepted")  # warm the rules cache
    one = _statements(app, client, "/review/?node=accepted")
    for i in range(19):
        queued_case(db, "accepted", _free_units(db, 2), business_key="second_hand_transfer" if i % 2 else "mortgage_first",
                    paid="80.00", tax="pending" if i % 2 else None)
    html = client.get("/review/?node=accepted").get_data(as_text=True)
    assert html.count('class="case-row"') == 20
    twenty = _statements(app, client, "/review/?node=accepted")
    assert len(twenty) == len(one), "\n".join(twenty)
    assert len(twenty) <= 10, "\n".join(twenty)
    print(f"review queue: {len(twenty)} SQL statements for 20 rows")


def _badges(html, pattern):
    return {node: int(n) for node, n in re.findall(pattern, html)}


def test_the_workbench_counts_what_the_queues_count(client, db):
    # The oldest submission heads the todo list, as it heads its queue.
    queued = queued_case(db, "pre_review", _free_units(db, 1), submitted_at=dt.datetime(2020, 1, 2, 9, 0))
    queued_case(db, "recorded", _free_units(db, 1), paid="80.00")
    home = login(client, "reviewer")
    queue = client.get("/review/").get_data(as_text=True)
    on_home = _badges(home, r'node=(\w+)">[^<]*<span class="badge">(\d+)</span>')
    in_queue = _badges(queue, r'data-node="(\w+)">[^<]*<span class="badge">(\d+)</span>')
    assert on_home and on_home == in_queue
    assert on_home["pre_review"] >= 1 and on_home["recorded"] >= 1
    todo = re.search(r'id="todo-count">(\d+)<', home)
    assert todo and int(todo.group(1)) == sum(in_queue.values())
    todo_list = home[home.index('id="todo-list"'):]
    todo_list = todo_list[:todo_list.index("</table>")]
    assert "暂无待办" not in todo_list and queued.number in todo_list


def test_an_operators_workbench_keeps_its_own_todo_list(client, db):
    home = login(client, "bank_a_op")
    assert 'id="todo-count"' not in home and 'id="review-queues"' not in home
