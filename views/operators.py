"""金融机构操作员管理: the institution administrator's people.

Add an existing account by looking it up (only accounts with no institution and no staff role),
remove selected ones from the institution, edit, detail, bind/unbind the CA certificate, and mark an
operator departed while handing their unfinished cases to a colleague (离职移交). Every action
writes an audit entry. Which rows an administrator sees is decided by app/scope.py, not here.
"""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, or_, select
from wtforms import SelectField

from app import audit, dictionary, roles, rulebook, validators
from app.auth import LoginRefused, ca
from app.auth.forms import BindCertificateForm, LookupForm, TransferForm
from app.extensions import appbuilder, db
from app.rulebook import markers
from app.vocab import OPERATOR_STATUS, formatter
from models import Case, Operator, OperatorCertificate

from .base import RegistryModelView

STAFF_ROLES = {roles.ADMIN, roles.REVIEWER, roles.CONFIGURATOR, roles.INSTITUTION_ADMIN, roles.OPERATOR}


def open_cases(operator_id):
    """Cases the operator applied for or currently holds that have not reached a final node."""
    final = sorted({n for b in rulebook.all_businesses() for n in markers.final_states(b.workflow)})
    return select(Case).where(or_(Case.applicant_id == operator_id, Case.executor_id == operator_id),
                              Case.node.not_in(final))


def _operator(pk):
    """By query, not session.get: an identity-map hit would skip the institution scope's criteria."""
    return db.session.scalar(select(Operator).where(Operator.id == pk)) or abort(404)


def _record(action_name, op, summary=None):
    audit.record(db.session, action_name, "Operator", op.id, summary=summary or op.username)


class OperatorView(RegistryModelView):
    datamodel = SQLAInterface(Operator)
    list_title = _l("Operators")
    show_template = "accounts/operator_show.html"
    list_columns = ["username", "first_name", "phone", "institution", "status", "active"]
    search_columns = ["username", "first_name", "phone", "status", "active"]
    show_columns = ["username", "first_name", "email", "phone", "id_number", "institution", "department",
                    "data_scope", "status", "active", "last_login", "login_count"]
    edit_columns = ["first_name", "email", "phone", "id_number", "department", "data_scope"]
    # 数据权限 (app/departments.py): which of the institution's cases the operator sees.
    edit_form_extra_fields = {"data_scope": SelectField(_l("Data scope"), choices=lambda: dictionary.choices("data_scope"))}
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    # the row's delete button removes the operator from the institution (the account stays): it says so
    delete_words = (_l("Remove from the institution"), _l("Remove this operator from the institution?"))
    method_permission_name = {"list": "list", "show": "show", "edit": "edit", "delete": "delete", "add": "add",
                              "lookup": "add", "attach": "add", "bind_ca": "edit", "unbind_ca": "edit",
                              "depart": "edit", "remove": "delete", "unlock": "edit"}
    validators_columns = {"phone": [validators.wtforms("mobile")], "id_number": [validators.wtforms("id_card")]}
    formatters_columns = {"status": formatter(OPERATOR_STATUS),
                          "data_scope": lambda v: dictionary.label("data_scope", v or "institution")}

    def post_update(self, item):
        _record("edit_operator", item)
        db.session.commit()

    # --- detail with the certificate ------------------------------------------------------------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        g.operator_certificate = db.session.scalar(
            select(OperatorCertificate).where(OperatorCertificate.operator_id == int(pk)))
        g.operator_open_cases = db.session.scalar(
            select(func.count()).select_from(open_cases(int(pk)).subquery()))
        return super().show(pk)

    # --- add by looking up an existing account ---------------------------------------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return redirect(url_for(".lookup"))

    def _candidates(self, query):
        """Accounts without an institution and without a staff role, matched exactly (no browsing).

        The institution scope hides accounts without an institution, so this search deliberately
        skips it; the conditions here are what keep it narrow.
        """
        stmt = (select(Operator).where(Operator.institution_id.is_(None),
                                       or_(Operator.username == query, Operator.phone == query,
                                           Operator.id_number == query.upper()))
                .execution_options(skip_scope=True))
        return [u for u in db.session.scalars(stmt) if not {r.name for r in u.roles} & STAFF_ROLES]

    @expose("/lookup/", methods=["GET", "POST"])
    @has_access
    def lookup(self):
        form = LookupForm(request.args, meta={"csrf": False})
        found = self._candidates(form.query.data.strip()) if form.query.data and form.validate() else None
        return self.render_template("accounts/operator_lookup.html", appbuilder=self.appbuilder, form=form,
                                    found=found)

    @expose("/attach/<int:pk>", methods=["POST"])
    @has_access
    def attach(self, pk):
        query = request.form.get("query", "")
        user = next((u for u in self._candidates(query.strip()) if u.id == pk), None)
        institution_id = g.user.institution_id
        if user is None or institution_id is None:
            flash(_("This account cannot be added"), "danger")
            return redirect(url_for(".lookup"))
        user.institution_id = institution_id
        user.roles = [appbuilder.sm.find_role(roles.OPERATOR)]
        user.status = "active"
        _record("attach_operator", user)
        db.session.commit()
        flash(_("%(name)s is now an operator of your institution", name=user.username), "success")
        return redirect(url_for(".show", pk=user.id))

    # --- delete = remove from the institution ---------------------------------------------------
    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters) or abort(404)
        self._remove([item])

    @action("remove", _l("Remove from the institution"), _l("Remove the selected operators from the institution?"), "fa-trash")
    def remove(self, items):
        self._remove(items if isinstance(items, list) else [items])
        return redirect(url_for(".list"))

    def _remove(self, items):
        for op in [i for i in items if i is not None]:  # rows outside the scope come back as None
            if op.id == g.user.id:
                flash(_("You cannot remove your own account"), "danger")
            elif db.session.scalar(select(func.count()).select_from(open_cases(op.id).subquery())):
                flash(_("%(name)s still has unfinished cases: mark them departed and hand the cases over first",
                        name=op.username), "danger")
            else:
                _record("remove_operator", op, summary=f"{op.username} ← {op.institution}")
                op.institution_id = None
                op.roles = [appbuilder.sm.find_role(roles.PUBLIC)]
                appbuilder.sm.rotate_session_nonce(op)
                flash(_("%(name)s has been removed from the institution", name=op.username), "success")
        db.session.commit()

    # --- sign-in lock ---------------------------------------------------------------------------
    @action("unlock", _l("Unlock"), _l("Lift the sign-in lock of the selected operators?"), "fa-unlock")
    def unlock(self, items):
        from app.security import unlock_accounts
        unlock_accounts(items)
        if isinstance(items, list) or items is None:
            return redirect(url_for(".list"))
        return redirect(url_for(".show", pk=items.id))

    # --- CA certificate -------------------------------------------------------------------------
    @expose("/bindca/<int:pk>", methods=["GET", "POST"])
    @has_access
    def bind_ca(self, pk):
        op = _operator(pk)
        form = BindCertificateForm()
        if form.validate_on_submit():
            try:
                cert = ca.load_certificate(form.certificate.data.read(64 * 1024))
            except ValueError as exc:
                form.certificate.errors.append(str(exc))
            else:
                self._bind(op, cert)
                return redirect(url_for(".show", pk=op.id))
        return self.render_template("accounts/operator_bind_ca.html", appbuilder=self.appbuilder, form=form, op=op)

    def _bind(self, op, cert):
        from cryptography.hazmat.primitives.serialization import Encoding
        info = ca.describe(cert)
        old = db.session.scalar(select(OperatorCertificate).where(OperatorCertificate.operator_id == op.id))
        if old is not None:
            db.session.delete(old)
            db.session.flush()
        db.session.add(OperatorCertificate(operator_id=op.id, institution_id=op.institution_id,
                                           pem=cert.public_bytes(Encoding.PEM).decode(), **info))
        _record("bind_ca", op, summary=f"{info['subject']} #{info['serial']}"[:300])
        db.session.commit()
        flash(_("Certificate bound: %(subject)s, serial %(serial)s, valid %(start)s to %(end)s",
                subject=info["subject"], serial=info["serial"], start=info["not_before"].date(),
                end=info["not_after"].date()), "success")
        try:
            ca.check_certificate(cert)
        except LoginRefused as exc:  # bound all the same: the administrator decides, the login refuses
            flash(_("Warning: this certificate cannot be used to sign in yet: %(reason)s", reason=str(exc)), "warning")

    @expose("/unbindca/<int:pk>", methods=["POST"])
    @has_access
    def unbind_ca(self, pk):
        op = _operator(pk)
        bound = db.session.scalar(select(OperatorCertificate).where(OperatorCertificate.operator_id == op.id))
        if bound is not None:
            _record("unbind_ca", op, summary=f"{bound.subject} #{bound.serial}"[:300])
            db.session.delete(bound)
            db.session.commit()
            flash(_("The certificate has been unbound"), "success")
        return redirect(url_for(".show", pk=op.id))

    # --- departure and hand-over ----------------------------------------------------------------
    @expose("/depart/<int:pk>", methods=["GET", "POST"])
    @has_access
    def depart(self, pk):
        op = _operator(pk)
        cases = db.session.scalars(open_cases(op.id).order_by(Case.id)).all()
        colleagues = db.session.scalars(select(Operator).where(
            Operator.institution_id == op.institution_id, Operator.id != op.id, Operator.status == "active",
            Operator.active.is_(True)).order_by(Operator.username)).all()
        form = TransferForm()
        form.colleague.choices = [(c.id, f"{c.username} {c.get_full_name()}") for c in colleagues]
        if op.status == "departed":
            flash(_("%(name)s has already departed", name=op.username), "info")
        elif op.id == g.user.id:
            flash(_("You cannot mark your own account departed"), "danger")
        elif request.method == "POST" and (form.validate_on_submit() or not cases):
            colleague = next((c for c in colleagues if c.id == form.colleague.data), None)
            if cases and colleague is None:
                flash(_("Choose the colleague who takes over the cases"), "danger")
            else:
                self._hand_over(op, cases, colleague)
                return redirect(url_for(".show", pk=op.id))
        return self.render_template("accounts/operator_depart.html", appbuilder=self.appbuilder, form=form, op=op,
                                    cases=cases)

    def _hand_over(self, op, cases, colleague):
        for case in cases:
            if case.applicant_id == op.id:
                case.applicant_id = colleague.id
            if case.executor_id == op.id:
                case.executor_id = colleague.id
        op.status = "departed"
        appbuilder.sm.rotate_session_nonce(op)
        if cases:
            audit.record(db.session, "transfer_cases", "Operator", op.id,
                         summary=_("%(n)d cases from %(from)s to %(to)s: %(numbers)s", n=len(cases),
                                   **{"from": op.username, "to": colleague.username},
                                   numbers=", ".join(c.number for c in cases))[:300],
                         after={"to": colleague.username, "cases": [c.number for c in cases]})
        _record("depart_operator", op)
        db.session.commit()
        flash(_("%(name)s is marked departed; %(n)d unfinished cases were handed over",
                name=op.username, n=len(cases)), "success")
