"""Every route of the application, requested as every kind of outsider against bank B's rows.

The routes come from app.url_map (nothing is listed by hand); each path parameter is filled with the
id of a real row of bank B (its cases with units, parties, a material, a payment order, a certificate,
its mortgage, pre-notice, operator, audit entry, an appointment of bank B's operator ...). Each route
is requested with GET, and with an empty POST where it takes POSTs, as a visitor, the public user,
bank A's operator and administrator and the configurator, one sign-in per role. Then:

- no request answers 500 (all failures are reported together: method, URL, role);
- no response to a visitor, the public user or a bank A user names bank B's case, proof, order or
  certificate numbers, its operator or its party; the public pages that take a number and a second
  fact are also asked with the number alone and must reveal nothing;
- bank B's rows (case, node, version, parties, materials, payments, appointment, operators ...) are
  exactly as before all the POSTs;
- every route protected by a permission lets exactly the roles that app/roles.py grants it in
  (FAB answers 403 to a signed-in user and sends a visitor to the login page), a few plain policy
  statements hold of app/roles.py, every permission it names exists, and every menu entry a role
  is shown opens for that role.

Besides: PDFs and workbooks are read as text; every list page is asked with malformed paging,
ordering and filter arguments; the desk lookup is asked with bank B's numbers and identities bank A
could know; the reviewer and the administrator open every page (GET) without a 500.
A certificate's or archive proof's token URL is the secret printed on it: its holder may read it.
"""
import datetime as dt
import re
import secrets
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app import roles
from models import (Appointment, AppointmentSlot, ArchiveProof, AuditLog, Case, CaseHistory, CaseParty, CaseUnit,
                    Certificate, Institution, Job, Material, Mortgage, Operator, OperatorCertificate, Party, Payment,
                    PreNotice, Right, SmsMessage, TaxAssessment, Unit)
from tests import factories

ROLES = ("anonymous", "public", "bank_a_op", "bank_a_admin", "configurator")
OUTSIDERS = ("anonymous", "public", "bank_a_op", "bank_a_admin")  # must never read bank B's text
ROLE_NAME = {"anonymous": roles.ANONYMOUS, "public": roles.PUBLIC, "bank_a_op": roles.OPERATOR,
             "bank_a_admin": roles.INSTITUTION_ADMIN, "configurator": roles.CONFIGURATOR}
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%matrix\n%%EOF\n")
PARTY_NAME = "冯乙秘"  # bank B's applicant party, a name nobody else in the demo data has


# ---- bank B's rows ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bank_b(app):
    """One row of bank B (or of someone other than the requester) for every kind of path parameter."""
    return rows_of(app, "bank_b", "bank_b_op", PARTY_NAME, 1)


@pytest.fixture(scope="module")
def bank_a(app):
    """The same rows of bank A's own, for its users' requests that may go through."""
    return rows_of(app, "bank_a", "bank_a_op", "冯甲秘", 2)


def rows_of(app, bank, username, party_name, seq):
    from app import rulebook
    from app.demo import make_id_card
    from app.extensions import db
    from app.services import materials
    from app.services.registration_documents import folder as registration_dir
    with app.test_request_context():
        inst = factories.institution(db, bank)
        op = factories.user(db, username)
        business = rulebook.get("mortgage_first")
        used = set(db.session.scalars(select(CaseUnit.unit_id)))
        units = db.session.scalars(select(Unit).where(Unit.id.not_in(used) if used else True,
                                                      Unit.use == "residential").order_by(Unit.id).limit(2)).all()
        draft = factories.case(db, username, business_key=business.key, rules_version_id=business.version_id)
        submitted = factories.case(db, username, business_key=business.key, node="pre_review",
                                   rules_version_id=business.version_id, executor_role=roles.REVIEWER,
                                   submitted_at=dt.datetime(2026, 1, 5),
                                   official_number=f"DJ{secrets.randbelow(10**9):09d}")
        submitted.executor_id = None
        phone = f"1390000991{seq}"
        for case, unit in ((draft, units[0]), (submitted, units[1])):
            db.session.add(CaseUnit(case_id=case.id, unit_id=unit.id, data={}))
            db.session.add(CaseParty(case_id=case.id, role="debtor", name=party_name, id_type="1",
                                     id_number=make_id_card(dt.date(1980, 3, 3), 910 + seq), phone=phone))
        db.session.commit()
        db.session.refresh(draft)
        material = materials.add(draft, business.materials[0], "matrix.pdf", PDF, op.id)
        db.session.commit()
        mortgage = db.session.scalar(select(Mortgage).where(Mortgage.institution_id == inst.id).limit(1))
        notice = db.session.scalar(select(PreNotice).where(PreNotice.institution_id == inst.id).limit(1))
        if notice is None:
            notice = PreNotice(unit_id=units[1].id, kind="4", institution_id=inst.id, amount=Decimal("1000.00"),
                               proof_number=f"湘(2024)长沙市不动产证明第99000{seq}1号", registered_at=dt.datetime(2024, 5, 1))
            db.session.add(notice)
        payment = Payment(order_number=f"PAY{bank[-1].upper()}{secrets.randbelow(10**9):09d}", case_id=submitted.id,
                          institution_id=inst.id, amount=Decimal("80.00"), status="pending",
                          items=[{"name": "登记费", "amount": "80.00"}])
        assessment = TaxAssessment(case_id=submitted.id, unit_id=units[1].id, institution_id=inst.id,
                                   reference=f"TAX{bank[-1].upper()}{secrets.randbelow(10**9):09d}",
                                   price=Decimal("1000000.00"), rate=Decimal("0.03"), amount=Decimal("30000.00"),
                                   buyers=[{"name": party_name}], status="pending")
        cert = Certificate(number=f"湘(2026)长沙市不动产证明第99000{seq}2号", kind="proof", token=secrets.token_hex(16),
                           unit_id=units[1].id, case_id=submitted.id, institution_id=inst.id,
                           holder_names=party_name, content={"holder": party_name})
        proof = ArchiveProof(number=f"CD{secrets.randbelow(10**9):09d}", token=secrets.token_hex(16),
                             unit_id=units[1].id, requested_by=op.id, institution_id=inst.id,
                             content={"holders": party_name})
        slot = AppointmentSlot(office=f"矩阵测试登记点{seq}", day=dt.date.today() + dt.timedelta(days=90),
                               start=dt.time(9, 0), finish=dt.time(9, 30), capacity=5)
        db.session.add_all([payment, assessment, cert, proof, slot])
        db.session.flush()
        appointment = Appointment(slot_id=slot.id, case_id=submitted.id, user_id=op.id, name=party_name,
                                  phone=phone, business_key=business.key)
        sms = SmsMessage(phone=phone, body=f"{submitted.number} 验证码 123456", purpose="case_confirm")
        log = AuditLog(action="matrix", institution_id=inst.id, username=op.username,
                       summary=f"{draft.number} of {bank}")
        # A finished background job of the bank's operator, its result file naming the draft (views/jobs.py).
        job = Job(kind="batch_print", user_id=op.id, institution_id=inst.id, params={"case_ids": [draft.id]},
                  state="done", done=1, total=1, result_path=f"jobs/matrix-{seq}/cases.pdf", result_name="cases.pdf")
        db.session.add_all([appointment, sms, log, job])
        db.session.commit()
        result = Path(app.config["DATA_DIR"]) / job.result_path
        result.parent.mkdir(parents=True, exist_ok=True)
        result.write_bytes(PDF + f"% {draft.number}\n".encode())
        folder = registration_dir(inst.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "licence.pdf").write_bytes(PDF)
        right = db.session.scalar(select(Right).where(Right.unit_id == units[1].id).limit(1)) \
            or db.session.scalar(select(Right).limit(1))
        party = db.session.scalar(select(Party).limit(1))
        b = SimpleNamespace(
            institution=inst.id, operator=op.id, draft=draft.id, submitted=submitted.id, cases=(draft.id, submitted.id),
            unit=units[1].id, building=units[1].building_id, parcel=units[1].building.parcel_id,
            party=draft.parties[0].id, material=material.id, mortgage=mortgage.id, notice=notice.id,
            payment=payment.id, order=payment.order_number, cert=cert.id, cert_token=cert.token, proof_token=proof.token,
            appointment=appointment.id, slot=slot.id, sms=sms.id, log=log.id, right=right.id, register_party=party.id,
            key=business.key, phone=phone, job=job.id)
        b.markers = {  # text that identifies the bank's business on a page
            "draft case number": draft.number, "submitted case number": submitted.number,
            "official number": submitted.official_number, "mortgage proof number": mortgage.proof_number,
            "pre-notice proof number": notice.proof_number, "payment order": payment.order_number,
            "tax assessment": assessment.reference,
            "certificate number": cert.number, "archive proof number": proof.number,
            "operator username": op.username, "party name": party_name, "institution name": inst.name,
            "certificate token": cert.token, "archive proof token": proof.token,
        }
        return b


def snapshot(app, b):
    """Bank B's rows as plain values (read without any scope)."""
    from app.extensions import db
    with app.app_context():
        s = db.session
        cases = s.scalars(select(Case).where(Case.id.in_(b.cases)).order_by(Case.id)).all()
        out = {
            "cases": [(c.number, c.node, c.version, c.executor_id, c.applicant_id, c.form_data, c.updated_at,
                       c.submitted_at, c.finished_at, c.rules_version_id) for c in cases],
            "bank B cases": s.scalar(select(func.count(Case.id)).where(Case.institution_id == b.institution)),
            "parties": [(p.id, p.name, p.id_number, p.phone, p.confirmed_at) for p in
                        s.scalars(select(CaseParty).where(CaseParty.case_id.in_(b.cases)).order_by(CaseParty.id))],
            "units": [(u.id, u.unit_id, u.data, u.group_name) for u in
                      s.scalars(select(CaseUnit).where(CaseUnit.case_id.in_(b.cases)).order_by(CaseUnit.id))],
            "materials": [(m.id, m.sha256) for m in
                          s.scalars(select(Material).where(Material.case_id.in_(b.cases)).order_by(Material.id))],
            "history": s.scalar(select(func.count(CaseHistory.id)).where(CaseHistory.case_id.in_(b.cases))),
            "payments": [(p.id, p.status, p.amount) for p in
                         s.scalars(select(Payment).where(Payment.case_id.in_(b.cases)).order_by(Payment.id))],
            "tax assessments": [(a.id, a.status, a.amount, a.receipt_number) for a in
                                s.scalars(select(TaxAssessment).where(TaxAssessment.case_id.in_(b.cases))
                                          .order_by(TaxAssessment.id))],
            "appointments": [(a.id, a.status, a.user_id, a.slot_id) for a in
                             s.scalars(select(Appointment).where(Appointment.case_id.in_(b.cases)).order_by(Appointment.id))],
            "operators": [(o.id, o.username, o.status, o.active, o.institution_id, o.first_name, o.phone,
                           sorted(r.name for r in o.roles)) for o in
                          s.scalars(select(Operator).where(Operator.institution_id == b.institution).order_by(Operator.id))],
            "operator certificates": s.scalar(select(func.count(OperatorCertificate.id)).where(
                OperatorCertificate.institution_id == b.institution)),
            "institution": [(i.name, i.status, i.ca_required, i.contact_phone, i.address) for i in
                            s.scalars(select(Institution).where(Institution.id == b.institution))],
            "mortgage": [(m.status, m.proof_number, m.secured_amount) for m in
                         s.scalars(select(Mortgage).where(Mortgage.id == b.mortgage))],
            "pre-notice": [(n.status, n.proof_number) for n in s.scalars(select(PreNotice).where(PreNotice.id == b.notice))],
            "certificates": [(c.number, c.status) for c in
                             s.scalars(select(Certificate).where(Certificate.institution_id == b.institution))],
            "job": [(j.state, j.result_path) for j in s.scalars(select(Job).where(Job.id == b.job))],
            "SMS to bank B's party": s.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.phone == b.phone)),
        }
        s.rollback()
        return out


# ---- which routes, with which values -----------------------------------------------------------
def _value(rule, arg, b):
    """The value of one path parameter: a row of bank B wherever the route names a row."""
    endpoint = rule.endpoint
    if arg == "pk":
        by_view = {"CaseView": b.submitted, "MortgageView": b.mortgage, "PreNoticeView": b.notice,
                   "OperatorView": b.operator, "InstitutionView": b.institution, "AuditLogView": b.log,
                   "UnitView": b.unit, "BuildingView": b.building, "ParcelView": b.parcel, "RightView": b.right,
                   "PartyView": b.register_party, "SmsOutboxView": b.sms, "AppointmentSlotView": b.slot,
                   "OperatorAdminView": b.operator, "ReviewRegistrationView": b.institution}
        return by_view.get(endpoint.split(".")[0], 1)
    return {"case_id": b.draft, "payment_id": b.payment, "cert_id": b.cert, "material_id": b.material, "party_id": b.party, "appointment_id": b.appointment,
            "order": b.order, "job_id": b.job, "key": b.key, "version": 1, "filename": "matrix.csv", "locale": "zh",
            "group_by": "0", "type_code": "id_types", "which": "todo", "purpose": "login"}.get(arg) or {
        "token": b.cert_token if "certificate" in endpoint else b.proof_token,
        "name": "licence.pdf" if endpoint.endswith(".document") else "remove",
    }[arg]


def _url(rule, b, **override):
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(override.get(arg, _value(rule, arg, b))), url)
    return url


def routes(app):
    """(rule, methods) for every route but the static files and the logout (asked last, it ends the sign-in)."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static" or rule.endpoint.startswith("appbuilder.") or rule.rule == "/logout/":
            continue
        methods = {"GET"} & rule.methods
        if "POST" in rule.methods:
            methods.add("POST")
        if methods:
            out.append((rule, sorted(methods)))
    return out


def probes(b):
    """Extra requests: the two-fact public pages with one fact only, and forms naming bank B's rows.
    (method, url, form, the marker the request itself typed, which the page may echo)"""
    m = b.markers
    wrong = "11010519491231002X"
    return [
        ("GET", f"/public/progress?number={m['draft case number']}", None, "draft case number"),
        ("GET", f"/public/progress?number={m['submitted case number']}&id_number={wrong}", None, "submitted case number"),
        ("POST", "/public/progress", {"number": m["official number"]}, "official number"),
        ("POST", "/public/certificate", {"number": m["certificate number"]}, "certificate number"),
        ("POST", "/public/certificate", {"number": m["certificate number"], "code": "000000"}, "certificate number"),
        ("POST", "/public/archive/verify", {"number": m["archive proof number"], "code": "000000"}, "archive proof number"),
        ("GET", f"/public/certificate/{secrets.token_hex(16)}", None, None),
        ("GET", f"/public/archive/{secrets.token_hex(16)}/pdf", None, None),
        ("POST", "/pay/", {"number": m["submitted case number"], "id_number": wrong}, "submitted case number"),
        ("POST", f"/pay/order/{b.submitted}", {}, None),
        ("POST", "/appointments/", {"slot_id": b.slot, "name": "张三", "phone": "13912345678",
                                    "case_number": m["submitted case number"]}, "submitted case number"),
        ("POST", "/appointments/", {"slot_id": b.slot, "name": "张三", "phone": "13912345678",
                                    "case_number": m["draft case number"]}, "draft case number"),
        ("GET", "/appointments/", None, None),
        ("POST", "/desk/office/print", {"case_id": [str(c) for c in b.cases]}, None),
        ("POST", f"/desk/case/{b.draft}/party", {"role": "debtor", "name": "hijack", "id_number": wrong,
                                                   "party_id": str(b.party)}, None),
        ("POST", f"/desk/case/{b.draft}/fire", {"event": "submit"}, None),
        ("POST", f"/review/case/{b.submitted}/fire", {"event": "accept"}, None),
        ("POST", f"/operatorview/depart/{b.operator}", {"colleague": str(b.operator)}, None),
        ("POST", f"/operatorview/action/remove/{b.operator}", {}, None),
        ("POST", "/operatorview/action_post", {"action": "remove", "rowid": str(b.operator)}, None),
        ("POST", "/caseview/action_post", {"action": "x", "rowid": str(b.submitted)}, None),
        ("GET", f"/caseview/list/?_flt_0_number={m['draft case number']}", None, "draft case number"),
        ("GET", "/operatorview/show/not-a-number", None, None),
        ("GET", "/caseview/show/not-a-number", None, None),
        ("GET", "/caseview/show/²", None, None),
        ("GET", "/login/?next=https://evil.example/", None, None),
        ("GET", "/login/?next=//evil.example/", None, None),
        ("POST", "/login/?next=https://evil.example/", {"username": "nobody", "password": "x"}, None),
        ("GET", "/back", None, None),
        ("GET", "/lang/xx", None, None),
        ("POST", "/appointments/", {"slot_id": "x", "name": "张三", "phone": "13912345678"}, None),
        ("POST", "/appointments/", {"slot_id": "9" * 25, "name": "张三", "phone": "13912345678"}, None),
        ("POST", "/desk/office/print", {"case_id": ["9" * 25, "²"]}, None),
        ("POST", "/desk/apply/mortgage_first/start", {"unit_id": ["9" * 25, "²"]}, None),
        ("GET", "/desk/office/todo?page=99999999999999999999999", None, None),
        ("GET", "/desk/office/done?page=-2", None, None),
        ("GET", "/review/?page=99999999999999999999999&node=no_such_node", None, None),
        ("GET", "/caseview/list/?page_CaseView=²", None, None),
        ("GET", f"/operatorview/lookup/?query={b.operator}", None, None),
        ("GET", "/operatorview/lookup/?query=bank_b_op", None, "operator username"),
    ]


def junk_form(b):
    """A form whose every field the views read holds what no form of ours sends: words for numbers,
    numbers out of range, bank B's ids where one's own belong."""
    junk = {name: "x" for name in (
        "slot_id", "version", "expected", "colleague", "upage", "share", "base_version", "approve", "font_size",
        "channel", "amount", "status", "kind", "id_type", "target", "reject_type", "material_key", "role", "event")}
    junk.update({"case_id": ["x", str(b.draft)], "unit_id": ["-1", "²", str(b.unit)], "rowid": ["x", str(b.operator)],
                 "party_id": str(b.party), "replace_id": str(b.material), "case_number": "x" * 300,
                 "number": "²", "id_number": "x", "code": "x", "phone": "x", "name": "x" * 1000, "opinion": "x",
                 "content": "key: [unclosed", "query": "x", "action": "x", "order_number": b.order,
                 "csrf_token": "x", "next": "https://evil.example/"})
    return junk


def list_probes(app):
    """Every list page with the parameters a hand-edited URL carries: unknown order column and
    direction, a negative or non-numeric page, a huge page size, unknown or malformed filters."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith(".list") and not rule.arguments:
            view = rule.endpoint.split(".")[0]
            for query in (f"_oc_{view}=no_such_column&_od_{view}=sideways", f"page_{view}=-3", f"page_{view}=x",
                          f"psize_{view}=100000", f"psize_{view}=-1", f"psize_{view}=0", "_flt_0_no_such_column=x",
                          "_flt_99_id=x", "_flt_0_id=not-a-number"):
                out.append(("GET", f"{rule.rule}?{query}", None, None))
    return out


# ---- the requests, made once for all the tests below ---------------------------------------------
def _text(response):
    """What a reader gets out of a response: the page, the text of a PDF, the strings of a workbook."""
    data = response.get_data()
    if response.mimetype == "application/pdf":
        import shutil
        import subprocess
        if not shutil.which("pdftotext"):
            return data.decode("latin-1")
        return subprocess.run(["pdftotext", "-q", "-", "-"], input=data, capture_output=True, check=False).stdout.decode()
    if response.mimetype.startswith("application/vnd.openxmlformats"):
        import io
        import zipfile
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def _client(app, role):
    from tests.conftest import Auth, IsolatedClient
    app.test_client_class = IsolatedClient
    c = app.test_client()
    if role != "anonymous":
        landed = Auth(c).login(role)
        assert landed.status_code == 200 and "/logout/" in landed.get_data(as_text=True), f"{role} cannot sign in"
    return c


def _ask(results, c, role, method, url, form=None, typed=None, rule=None):
    """One request, recorded; an exception escaping the app (TESTING propagates them) counts as a 500."""
    try:
        r = c.open(url, method=method, data=form if method == "POST" else None)
        results.append(SimpleNamespace(role=role, method=method, url=url, status=r.status_code, body=_text(r),
                                       location=r.headers.get("Location", ""), typed=typed, rule=rule,
                                       mimetype=r.mimetype))
    except Exception as exc:  # noqa: BLE001  (reported with all the others)
        results.append(SimpleNamespace(role=role, method=method, url=url, status=500,
                                       body=f"{type(exc).__name__}: {exc}", location="", typed=typed, rule=rule,
                                       mimetype=""))


@pytest.fixture(scope="module")
def matrix(app, bank_b):
    before = snapshot(app, bank_b)
    results = []  # SimpleNamespace(role, method, url, status, body, location, typed, rule, mimetype)
    for role in ROLES:
        c = _client(app, role)
        for rule, methods in routes(app):
            for method in methods:
                _ask(results, c, role, method, _url(rule, bank_b), {} if method == "POST" else None, rule=rule)
            if "POST" in methods:
                _ask(results, c, role, "POST", _url(rule, bank_b), junk_form(bank_b), rule=rule)
        for method, url, form, typed in probes(bank_b) + list_probes(app):
            _ask(results, c, role, method, url, form, typed)
        still = c.get("/settings/") if role != "anonymous" else None
        assert still is None or still.status_code == 200, f"{role} was signed out by the matrix"
        _ask(results, c, role, "POST", "/logout/")  # last: it ends the sign-in
    return SimpleNamespace(results=results, before=before, after=snapshot(app, bank_b))


def test_no_page_answers_500_to_the_registry_staff(app, bank_b):
    """The reviewer and the administrator open every page (GET only: their POSTs would legitimately
    change bank B's rows) with bank B's ids, the review desk and FAB's security views included."""
    failures = []
    for role in ("reviewer", "admin"):
        c = _client(app, role)
        for rule, methods in routes(app):
            if "GET" in methods and not rule.endpoint.endswith(".action"):
                url = _url(rule, bank_b)
                try:
                    status = c.get(url).status_code
                except Exception as exc:  # noqa: BLE001  (reported with the others)
                    status = f"{type(exc).__name__}: {exc}"
                if status == 500 or isinstance(status, str):
                    failures.append(f"GET {url} as {role}: {status}")
    assert not failures, "\n".join(failures)


CSRF_EXEMPT = {"PublicServicePaymentView.notify",  # the provider's signed callback (views/payment.py)
               "PublicServiceTaxView.notify"}  # the tax bureau's signed callback (views/tax.py)


def test_with_csrf_on_every_post_route_refuses_a_form_without_its_token(app, bank_b):
    """Production runs with CSRF protection: every POST route (but the provider's signed callback and
    FAB's closed token API) answers 400 to a signed-in user's form that lacks the token."""
    clients = {role: _client(app, role) for role in ("anonymous", "bank_a_admin", "configurator")}
    unprotected = []
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for role, c in clients.items():
            for rule, methods in routes(app):
                if "POST" in methods and rule.endpoint not in CSRF_EXEMPT and not rule.rule.startswith("/api/"):
                    r = c.post(_url(rule, bank_b), data=junk_form(bank_b) | {"csrf_token": ""})
                    if r.status_code != 400:
                        unprotected.append(f"POST {rule.rule} as {role}: {r.status_code}")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert not unprotected, "\n".join(unprotected)


def test_no_route_answers_500(matrix):
    failures = [f"{r.method} {r.url} as {r.role}: {r.body[:300] if r.status == 500 and ':' in r.body[:80] else r.status}"
                for r in matrix.results if r.status >= 500]
    assert not failures, "\n".join(failures)


def test_no_response_to_an_outsider_names_bank_b(matrix, bank_b):
    leaks = []
    for r in matrix.results:
        if r.role not in OUTSIDERS or (r.rule is not None and "token" in r.rule.arguments):
            continue  # a certificate's or archive proof's token is the secret printed on it: its holder may read it
        for what, marker in bank_b.markers.items():
            if what == r.typed or not marker:
                continue
            if 300 <= r.status < 400 and marker in r.url:
                continue  # a redirect (to the login page, say) may carry the requested URL along
            if marker in r.body or marker in r.location:
                leaks.append(f"{r.method} {r.url} as {r.role} shows bank B's {what} ({marker})")
    assert not leaks, "\n".join(leaks)


def test_the_markers_do_show_to_bank_b_itself(app, bank_b):
    """The leak check means something: the same rows and texts are on bank B's own pages."""
    c = _client(app, "bank_b_op")
    m = bank_b.markers
    case_page = c.get(f"/desk/case/{bank_b.draft}/").get_data(as_text=True)
    assert m["draft case number"] in case_page and PARTY_NAME in case_page
    assert m["mortgage proof number"] in c.get(f"/mortgageview/show/{bank_b.mortgage}").get_data(as_text=True)
    assert m["payment order"] in c.get(f"/pay/sandbox/{bank_b.order}").get_data(as_text=True)
    assert m["certificate number"] in c.get("/proofs/").get_data(as_text=True)
    with app.app_context():
        from app.extensions import db
        id_number = db.session.get(CaseParty, bank_b.party).id_number
    visitor = _client(app, "anonymous")
    progress = visitor.post("/public/progress", data={"number": m["draft case number"], "party": id_number[-4:]})
    assert 'id="progress-result"' in progress.get_data(as_text=True)


def test_one_fact_shows_no_result(matrix):
    shown = [f"{r.method} {r.url} as {r.role}" for r in matrix.results
             if r.typed and r.url.startswith(("/public/", "/pay/")) and 'id="progress-result"' in r.body]
    assert not shown, "\n".join(shown)


def test_no_response_sends_the_browser_off_site(matrix):
    offsite = [f"{r.method} {r.url} as {r.role} -> {r.location}" for r in matrix.results
               if r.location and urlsplit(r.location).netloc not in ("", "localhost")]
    assert not offsite, "\n".join(offsite)


def test_bank_b_rows_did_not_change(matrix):
    changed = [f"{k}: {matrix.before[k]!r} -> {matrix.after[k]!r}" for k in matrix.before
               if matrix.before[k] != matrix.after[k]]
    assert not changed, "\n".join(changed)


def test_a_lookup_by_bank_b_numbers_without_their_second_fact_finds_nothing(app, bank_b):
    """The desk lookup searches the whole register; bank B's proof and case numbers (and the certificate
    of the unit bank B holds a mortgage on), with any identity bank A could know, show no unit."""
    from app import rulebook
    from app.demo import make_id_card
    from app.extensions import db
    with app.app_context():
        mortgage = db.session.get(Mortgage, bank_b.mortgage)
        right = next((r for r in mortgage.unit.rights if r.status == "current"), None)
        identities = [factories.institution(db, "bank_a").uscc, factories.institution(db, "bank_b").uscc,
                      make_id_card(dt.date(1970, 7, 7), 99)]
        lookups = [(b.key, b.lookup[0].field, b.lookup[1].field) for b in rulebook.all_businesses()]
    m = bank_b.markers
    numbers = {"proof_number": [m["mortgage proof number"], m["pre-notice proof number"]],
               "case_number": [m["draft case number"], m["official number"]],
               "certificate_number": [right.certificate_number] if right else []}
    c = _client(app, "bank_a_op")
    found = []
    for key, number_field, identity_field in lookups:
        for number in numbers.get(number_field, []):
            for identity in identities:
                page = c.get(f"/desk/apply/{key}/", query_string={number_field: number, identity_field: identity})
                # 403: a business a bank may not apply for (applicant_kinds), refused before any lookup.
                assert page.status_code in (200, 400, 403), (key, number, page.status_code)
                if 'name="unit_id"' in page.get_data(as_text=True):
                    found.append(f"{key}: {number} + {identity} shows units")
    assert not found, "\n".join(found)


# ---- who may open what, derived from app/roles.py ------------------------------------------------
def granted(app, role, rule):
    """Whether app/roles.py grants the role the permission FAB checks for this route (None: the route
    checks no permission). Mirrors FAB's has_access: the view's method permission on its class name."""
    from flask_appbuilder.api import BaseApi
    fn = app.view_functions[rule.endpoint]
    view = getattr(fn, "__self__", None)
    if view is not None and rule.endpoint.endswith(".action"):  # the action's own permission; the URL names "remove"
        if "remove" not in view.actions:
            return None  # an unknown action: 404 for everyone
        return any(re.match(v, view.class_permission_name) and re.match(p, view.get_action_permission_name("remove"))
                   for v, p in roles.FAB_ROLES[ROLE_NAME[role]])
    if view is None or not hasattr(fn, "_permission_name"):
        return None
    perm = "can_" + ((view.method_permission_name or {}).get(fn.__name__) or fn._permission_name)
    if isinstance(view, BaseApi):
        perm = "can_" + fn._permission_name
    if view.base_permissions and perm not in view.base_permissions:
        return False
    return any(re.match(v, view.class_permission_name) and re.match(p, perm)
               for v, p in roles.FAB_ROLES[ROLE_NAME[role]])


def _to_login(r):
    return r.status == 302 and urlsplit(r.location).path == "/login/"


def test_each_route_opens_to_exactly_the_roles_granted_it(app, matrix):
    wrong = []
    for r in matrix.results:
        if r.rule is None:
            continue
        allowed = granted(app, r.role, r.rule)
        if allowed is None:
            continue
        refused = r.status in (401, 403) or _to_login(r)
        if allowed and refused:
            wrong.append(f"{r.method} {r.url}: {r.role} is granted it by app/roles.py but refused ({r.status})")
        elif not allowed and not refused:
            wrong.append(f"{r.method} {r.url}: {r.role} is not granted it but got {r.status} {r.location}")
        elif not allowed and r.role == "anonymous" and r.status == 403 and "/api/" not in r.url:
            wrong.append(f"{r.method} {r.url}: a visitor should be sent to the login page, got 403")
        elif not allowed and r.role != "anonymous" and _to_login(r):
            wrong.append(f"{r.method} {r.url}: signed-in {r.role} should get 403, was sent to log in")
    assert not wrong, "\n".join(wrong)


POLICY = [  # (role, URL prefix) a role must never open, whatever the roles file says elsewhere
    ("configurator", "/desk/"), ("configurator", "/review/"), ("configurator", "/registrations/"),
    ("configurator", "/caseview/"), ("configurator", "/operatorview/"), ("configurator", "/auditlogview/"),
    ("bank_a_op", "/review/"), ("bank_a_op", "/rules/"), ("bank_a_op", "/registrations/"),
    ("bank_a_op", "/operatorview/"), ("bank_a_op", "/auditlogview/"), ("bank_a_op", "/smsoutboxview/"),
    ("bank_a_op", "/appointmentslotview/"), ("bank_a_op", "/users/"),
    ("bank_a_admin", "/review/"), ("bank_a_admin", "/rules/"), ("bank_a_admin", "/registrations/"),
    ("bank_a_admin", "/smsoutboxview/"), ("bank_a_admin", "/users/"), ("bank_a_admin", "/roles/"),
    ("public", "/desk/"), ("public", "/review/"), ("public", "/rules/"), ("public", "/caseview/"),
    ("public", "/mortgageview/"), ("public", "/unitview/"), ("public", "/partyview/"), ("public", "/workbench/"),
    ("anonymous", "/desk/"), ("anonymous", "/settings/"), ("anonymous", "/pay/sandbox/"), ("anonymous", "/archive/"),
]


def test_the_roles_file_keeps_the_policy(app):
    """Plain statements about who is kept out of what, checked against app/roles.py itself."""
    breaches = []
    for role, prefix in POLICY:
        for rule, _ in routes(app):
            if rule.rule.startswith(prefix) and granted(app, role, rule):
                breaches.append(f"app/roles.py grants {role} {rule.rule} ({rule.endpoint})")
    assert not breaches, "\n".join(breaches)
    for role, prefix in POLICY:  # and the prefixes name real routes (a renamed area must not pass silently)
        assert any(rule.rule.startswith(prefix) for rule, _ in routes(app)), prefix


def test_every_permission_the_roles_file_grants_exists(app):
    """A grant that names no permission of any view it matches is dead: the role silently lacks what
    the file promises (an action's permission is its bare name, without can_)."""
    from app.extensions import appbuilder
    known = {(v.class_permission_name, p) for v in appbuilder.baseviews for p in (v.base_permissions or [])}
    generic = set(roles.WRITE.split("|"))  # the CRUD set is granted whole, whatever a view leaves out
    dead = []
    for role, pairs in roles.FAB_ROLES.items():
        for view_re, perm_re in pairs:
            for literal in perm_re.split("|"):
                if literal == "menu_access" or literal in generic or re.search(r"[.*()\[\]?+$^]", literal):
                    continue
                if not any(re.match(view_re, v) and p == literal for v, p in known):
                    dead.append(f"{role}: {view_re} {literal}")
    assert not dead, "\n".join(dead)


def test_the_registry_opens_two_weeks_of_slots_from_the_list(app, bank_b):
    from app.extensions import db
    c = _client(app, "reviewer")
    assert "open_two_weeks" in c.get("/appointmentslotview/list/").get_data(as_text=True)
    with app.app_context():
        before = db.session.scalar(select(func.count(AppointmentSlot.id)))
    c.post("/appointmentslotview/action_post", data={"action": "open_two_weeks", "rowid": str(bank_b.slot)})
    with app.app_context():
        assert db.session.scalar(select(func.count(AppointmentSlot.id))) > before


def test_every_menu_entry_a_role_is_shown_opens(app):
    unopenable = []
    for role in ROLES + ("reviewer", "admin"):
        c = _client(app, role)
        home = c.get("/").get_data(as_text=True)
        links = sorted(set(re.findall(r'<a[^>]+href="(/[^"#]*)"', home)) - {"/logout/"})
        assert links, role
        for link in links:
            r = c.get(link)
            if r.status_code in (401, 403, 404, 500) or (r.status_code == 302
                                                        and urlsplit(r.headers["Location"]).path == "/login/"):
                unopenable.append(f"{role} is shown {link} but it answers {r.status_code}")
    assert not unopenable, "\n".join(unopenable)


def test_the_admin_saving_an_account_without_a_role_is_told_so(app, bank_b):
    c = _client(app, "admin")
    page = c.post(f"/users/edit/{bank_b.operator}", data={"first_name": "何明",
                                                          "username": "bank_b_op", "email": "b@example.com"})
    assert page.status_code == 200 and "请至少选择一个角色" in page.get_data(as_text=True)


def test_bank_a_users_own_rows_never_answer_500(app, bank_a, bank_b):
    """After the matrix (this changes bank A's rows): bank A's users request every route with bank A's
    own ids, GET, an empty and a junk POST, so the pages that do go through are exercised too."""
    failures = []
    for role in ("bank_a_op", "bank_a_admin"):
        c = _client(app, role)
        results = []
        for rule, methods in routes(app):
            url = _url(rule, bank_a)
            if "GET" in methods:
                _ask(results, c, role, "GET", url, rule=rule)
            if "POST" in methods:
                for form in ({}, junk_form(bank_a)):
                    _ask(results, c, role, "POST", url, form, rule=rule)
        failures += [f"{r.method} {r.url} as {role}: {r.body[:200]}" for r in results if r.status >= 500]
        assert any(r.url == f"/desk/case/{bank_a.draft}/" and r.status == 200 for r in results), role
    assert not failures, "\n".join(failures)


def test_zz_staff_posts_never_answer_500(app, bank_b):
    """Last (it may change anything): the reviewer and the administrator post an empty and a junk
    form to every POST route with bank B's ids, and nothing answers 500."""
    failures = []
    for role in ("reviewer", "admin"):
        c = _client(app, role)
        results = []
        for rule, methods in routes(app):
            if "POST" in methods:
                for form in ({}, junk_form(bank_b)):
                    _ask(results, c, role, "POST", _url(rule, bank_b), form, rule=rule)
        failures += [f"POST {r.url} as {role}: {r.body[:200]}" for r in results if r.status >= 500]
    assert not failures, "\n".join(failures)
