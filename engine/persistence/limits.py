"""Input limits defined once, from the models' column sizes: the web forms, the JSON API's schemas and the CLI all
take them from here (and the engine checks them again, so no channel can store more than the column holds)."""

from __future__ import annotations

from engine.persistence.models import Agency, ApiToken, Applicant, Case, CaseItem, Delivery, Department, User

MAX_ID = 2**31 - 1          # ids, page numbers and counts beyond a 32-bit integer are not ours: 404 / refused
MAX_PAGE = 100_000
MAX_TEXT = 5000             # free text (request items, reasons, notes) in Text columns
MAX_ITEMS = 50              # 申请事项 per application, on every channel
MIN_YEAR, MAX_YEAR = 2008, 2100   # report years: the regulation took effect in 2008


def _length(column) -> int:
    return column.property.columns[0].type.length


APPLICANT_FIELDS = {
    "name": _length(Applicant.name),
    "id_type": _length(Applicant.id_type),
    "id_number": _length(Applicant.id_number),
    "phone": _length(Applicant.phone),
    "email": _length(Applicant.email),
    "address": _length(Applicant.address),
    "postal_code": _length(Applicant.postal_code),
    "contact_person": _length(Applicant.contact_person),
}
REG_NO = _length(Case.reg_no)
REQUESTED_FORM = _length(Case.requested_form)
REQUESTED_DELIVERY = _length(Case.requested_delivery)
ITEM_TOPIC = _length(CaseItem.topic)
TRACKING_NO = _length(Delivery.tracking_no)
USERNAME = _length(User.username)
DISPLAY_NAME = _length(User.display_name)
DEPARTMENT_NAME = _length(Department.name)
TOKEN_NAME = _length(ApiToken.name)
AGENCY_CODE = _length(Agency.code)
AGENCY_NAME = _length(Agency.name)
NUMBER_PATTERN = _length(Agency.reg_no_pattern)
