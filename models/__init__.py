"""All models, imported so that Alembic and the app see one complete metadata (FAB's Model.metadata)."""
from .archive_query import ArchiveQuery  # noqa: F401
from .base import Scoped
from .api import ApiClient, ApiEvent, IdempotentRequest, WebhookDelivery, WebhookEndpoint  # noqa: F401
from .access import Department, LoginLog, UserSession  # noqa: F401
from .appointment import Appointment, AppointmentSlot  # noqa: F401
from .audit import AuditLog  # noqa: F401
from .ca_nonce import CaLoginNonce  # noqa: F401
from .calendar import CalendarYear  # noqa: F401
from .case import Case, CaseHistory, CaseParty, CaseUnit, Material  # noqa: F401
from .case_steps import CaseDeclaration, KioskCode, UtilityTransfer  # noqa: F401
from .certificate import ArchiveProof, Certificate  # noqa: F401
from .counter import Counter  # noqa: F401
from .dictionary import DictItem, DictType, DictVersion, Setting  # noqa: F401
from .job import Job  # noqa: F401
from .list_setting import ListSetting  # noqa: F401
from .institution import Institution, Operator, OperatorCertificate  # noqa: F401
from .messaging import EmailMessage, OneTimeCode, SmsMessage  # noqa: F401
from .nonce import UsedNonce  # noqa: F401
from .party import Party  # noqa: F401
from .payment import Payment  # noqa: F401
from .property import Building, Parcel, Unit  # noqa: F401
from .rights import Mortgage, MortgageParty, PreNotice, PreNoticeParty, Right, RightHolder  # noqa: F401
from .rulebook import RuleBlob, RuleVersion  # noqa: F401
from .tax import TaxAssessment  # noqa: F401

# The classes app/scope.py confines for institution users: every mapped class marked Scoped (models/base.py).
SCOPED_MODELS = tuple(sorted((m.class_ for m in Case.registry.mappers if issubclass(m.class_, Scoped)),
                             key=lambda c: c.__name__))
