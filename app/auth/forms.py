"""The forms of the account pages (views/accounts.py). Domain checks reuse app/validators.py."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, MultipleFileField
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from app import validators
from app.vocab import INSTITUTION_KIND, select

from .passwords import policy_validator

USERNAME = Regexp(r"^[A-Za-z0-9_.@-]{3,64}$", message=_l("3 to 64 letters, digits or _ . @ -"))
DOCUMENT_TYPES = ("pdf", "jpg", "jpeg", "png")
FONT_SIZES = {"normal": _l("Normal"), "large": _l("Large"), "xlarge": _l("Extra large")}


class PasswordLoginForm(FlaskForm):
    username = StringField(_l("Account"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    captcha = StringField(_l("Image code"), validators=[Optional(), Length(max=8)])  # app/auth/login_captcha.py


class CaLoginForm(PasswordLoginForm):
    signature = HiddenField()


class NewPasswordMixin:
    password = PasswordField(_l("New password"), validators=[DataRequired(), policy_validator])
    confirm = PasswordField(_l("Confirm password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match"))])


class PublicRegistrationForm(NewPasswordMixin, FlaskForm):
    phone = StringField(_l("Mobile"), validators=[DataRequired(), validators.wtforms("mobile")])
    code = StringField(_l("SMS code"), validators=[Optional(), Length(max=6)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(min=2, max=30)])
    id_number = StringField(_l("ID number"), validators=[DataRequired(), validators.wtforms("id_card")])
    accept_terms = BooleanField(_l("I have read and accept the terms of service"))
    send_code = SubmitField(_l("Send code"))
    submit = SubmitField(_l("Register"))


class InstitutionRegistrationForm(NewPasswordMixin, FlaskForm):
    name = StringField(_l("Institution name"), validators=[DataRequired(), Length(max=120)])
    kind = select(_l("Kind"), INSTITUTION_KIND)  # the dictionary's enabled kinds (字典管理)
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), validators.wtforms("uscc")])
    legal_person = StringField(_l("Legal person"), validators=[DataRequired(), Length(max=60)])
    legal_person_id_number = StringField(_l("Legal person's ID number"),
                                         validators=[DataRequired(), validators.wtforms("id_card")])
    contact_name = StringField(_l("Contact"), validators=[DataRequired(), Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), validators=[DataRequired(), validators.wtforms("mobile")])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    documents = MultipleFileField(_l("Documents (business licence, authorisation letter)"),
                                  validators=[FileAllowed(DOCUMENT_TYPES, _l("Only PDF, JPG or PNG files"))])
    username = StringField(_l("Administrator account"), validators=[DataRequired(), USERNAME])
    email = StringField(_l("Administrator e-mail"), validators=[DataRequired(), Email(), Length(max=64)])
    admin_name = StringField(_l("Administrator name"), validators=[DataRequired(), Length(min=2, max=30)])
    admin_phone = StringField(_l("Administrator mobile"), validators=[DataRequired(), validators.wtforms("mobile")])
    accept_terms = BooleanField(_l("I have read and accept the terms of service"))


class ForgotPasswordForm(NewPasswordMixin, FlaskForm):
    username = StringField(_l("Account"), validators=[DataRequired(), Length(max=128)])
    phone = StringField(_l("Mobile"), validators=[DataRequired(), validators.wtforms("mobile")])
    code = StringField(_l("SMS code"), validators=[Optional(), Length(max=6)])
    send_code = SubmitField(_l("Send code"))
    submit = SubmitField(_l("Reset password"))


class ReviewForm(FlaskForm):
    opinion = TextAreaField(_l("Review opinion"), validators=[Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class MyInfoForm(FlaskForm):
    first_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=64)])  # the one 姓名 field
    email = StringField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=64)])
    phone = StringField(_l("Mobile"), validators=[Optional(), validators.wtforms("mobile")])
    save_info = SubmitField(_l("Save"))


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    old_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    change_password = SubmitField(_l("Change password"))


class FontSizeForm(FlaskForm):
    font_size = SelectField(_l("Font size"), choices=list(FONT_SIZES.items()))
    save_font = SubmitField(_l("Save"))


class BindCertificateForm(FlaskForm):
    certificate = FileField(_l("Certificate file (PEM or DER)"), validators=[DataRequired()])


class TransferForm(FlaskForm):
    colleague = SelectField(_l("Hand the unfinished cases over to"), coerce=int)


class LookupForm(FlaskForm):
    query = StringField(_l("Account, mobile or ID number"), validators=[DataRequired(), Length(min=3, max=64)])
