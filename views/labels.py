"""Column labels shared by every view, so one field reads the same everywhere."""
from flask_babel import lazy_gettext as _l

LABELS = {
    "name": _l("Name"), "kind": _l("Kind"), "uscc": _l("Unified social credit code"),
    "legal_person": _l("Legal person"), "legal_person_id_number": _l("Legal person ID number"),
    "contact_name": _l("Contact"), "contact_phone": _l("Contact phone"), "address": _l("Address"),
    "status": _l("Status"), "ca_required": _l("CA certificate required"), "review_opinion": _l("Review opinion"),
    "code": _l("Parcel code"), "location": _l("Location"), "area": _l("Area (m²)"), "land_use": _l("Land use"),
    "parcel": _l("Parcel"), "number": _l("Number"), "floors": _l("Floors"), "survey_number": _l("Survey number"),
    "building": _l("Building"), "unit_code": _l("Unit code"), "room": _l("Room"), "floor": _l("Floor"),
    "use": _l("Use"), "mortgaged": _l("Mortgaged"), "pre_noticed": _l("Pre-noticed"), "presale_filed": _l("Pre-sale contract filed"), "sealed": _l("Sealed"),
    "objected": _l("Objected"), "id_type": _l("ID type"), "id_number": _l("ID number"), "phone": _l("Mobile"),
    "unit": _l("Unit"), "certificate_number": _l("Certificate number"), "share_mode": _l("Co-ownership"),
    "registered_at": _l("Registered at"), "holders": _l("Holders"), "institution": _l("Institution"),
    "mortgagee_name": _l("Mortgagee"), "secured_amount": _l("Secured amount"),
    "maximum_amount": _l("Maximum amount"), "collateral_value": _l("Collateral value"),
    "term_start": _l("Term start"), "term_end": _l("Term end"), "rank": _l("Rank"), "scope": _l("Guarantee scope"),
    "transfer_restricted": _l("Transfer restricted"), "proof_number": _l("Proof number"),
    "cancelled_at": _l("Cancelled at"), "amount": _l("Amount"), "official_number": _l("Case number"),
    "business_key": _l("Business"), "business_name": _l("Business"), "applicant": _l("Applicant"),
    "executor": _l("Executor"), "node": _l("Current node"), "node_name": _l("Current node"),
    "submitted_at": _l("Submitted at"), "created_at": _l("Created at"), "updated_at": _l("Updated at"),
    "at": _l("Time"), "username": _l("Account"), "ip": _l("IP address"), "action": _l("Action"),
    "object_type": _l("Object"), "object_id": _l("Object ID"), "summary": _l("Summary"), "before": _l("Before"),
    "after": _l("After"), "body": _l("Message"), "purpose": _l("Purpose"), "sent_at": _l("Sent at"),
    "first_name": _l("Full name"),  # 姓名: the whole name lives in first_name (models.Operator.get_full_name)
    "email": _l("Email"), "active": _l("Active"),
    "roles": _l("Roles"), "deadline": _l("Deadline"), "department": _l("Department"), "data_scope": _l("Data scope"),
    "geometry": _l("Geometry (GeoJSON)"),
    # relations shown on show pages, and FAB's account columns (display layer, issue 13)
    "parties": _l("Parties"), "units": _l("Units"), "mortgages": _l("Mortgages"), "pre_notices": _l("Pre-notices"),
    "rights": _l("Ownership rights"), "appointments": _l("Appointments"), "last_login": _l("Last sign-in"),
    "login_count": _l("Sign-ins"), "buildings": _l("Buildings"),
}


