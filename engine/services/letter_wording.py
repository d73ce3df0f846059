"""An agency's own wording of its letters' free paragraphs (slots): check, save as a new version, activate, look up.

The slots, their placeholders and the checks belong to the letters package (it knows its templates); the web and
command layers inject them as a `WordingCatalogue`, as they inject the renderer. Versions are never changed: a
change is a new version, activating one is audited, and every letter the engine issues carries the agency's
active wording in its data, so the frozen letter records the version it was rendered with.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.persistence.audit import record_event, utcnow
from engine.persistence.direct_read import core_rows
from engine.persistence.models import Agency, LetterWording, User

BUILT_IN_VERSION = 0  # the templates' own wording, before an agency saves any version
MAX_IMPORT_TYPES = 50


class WordingCatalogue(Protocol):
    """What the letters package knows about slots (injected: the engine never imports letters)."""

    letter_types: Collection[str]

    def title(self, letter_type: str) -> str: ...

    def slot_labels(self, letter_type: str) -> dict[str, str]: ...

    def default_slots(self, letter_type: str) -> dict[str, str]: ...

    def placeholder_names(self, letter_type: str) -> list[str]: ...

    def check(self, letter_type: str, slots: Mapping[str, object], *, agency: Mapping[str, str | None]
              ) -> dict[str, str]: ...


@dataclass(frozen=True)
class ActiveWording:
    """The wording in force for one letter type of an agency: its version and every slot's text."""

    letter_type: str
    version: int
    slots: dict[str, str]
    placeholders: list[str]

    def as_json(self) -> dict:
        """The `gongkai letter template show` shape (DESIGN §7)."""
        return {"type": self.letter_type, "version": self.version, "slots": self.slots,
                "placeholders": self.placeholders}


@dataclass(frozen=True)
class WordingVersionView:
    """One saved version as the history shows it: who, when, from where, and what changed from the one before."""

    version: int
    active: bool
    created_by: str
    created_at: datetime | None
    source: str
    slots: dict[str, str]
    changes: dict[str, dict[str, str]] = field(default_factory=dict)


def agency_fields(agency: Agency) -> dict[str, str | None]:
    """The agency's own values a wording preview shows instead of the sample's (name, contact, phone)."""
    return {"agency_name": agency.name, "contact": agency.contact or None,
            "contact_phone": (agency.settings or {}).get("contact_phone") or None}


# The active version of a letter type's wording, built once and read with Core (`direct_read`): every letter issued
# asks, most often of an agency that has not reworded that letter.
_WORDINGS = LetterWording.__table__
_ACTIVE_VERSION = select(_WORDINGS.c.version, _WORDINGS.c.slots).where(
    _WORDINGS.c.agency_id == bindparam("agency_id"), _WORDINGS.c.letter_type == bindparam("letter_type"),
    _WORDINGS.c.active.is_(True))


def _active_row(session: Session, agency_id: int, letter_type: str):
    """The active version's (version, slots) row, or None for the built-in wording."""
    return core_rows(session, _ACTIVE_VERSION, {"agency_id": agency_id, "letter_type": letter_type},
                     reads=(LetterWording,)).first()


def letter_wording(session: Session, agency_id: int, letter_type: str) -> dict | None:
    """The `wording` part of a letter's data: the active version and its slots, or None for the built-in wording."""
    row = _active_row(session, agency_id, letter_type)
    return {"version": row.version, "slots": dict(row.slots)} if row is not None else None


def with_active_wording(session: Session, agency_id: int, letter_type: str, data: dict) -> dict:
    """Letter data carrying the agency's active wording (a correction is worded as letters issued today are)."""
    data = {key: value for key, value in data.items() if key != "wording"}
    wording = letter_wording(session, agency_id, letter_type)
    return {**data, "wording": wording} if wording is not None else data


def _known_type(catalogue: WordingCatalogue, letter_type: str) -> None:
    if letter_type not in catalogue.letter_types:
        raise InvalidInput(f"未知的文书类型：{letter_type}（可用：{'、'.join(catalogue.letter_types)}）",
                           details={"letter_type": "未知的文书类型"})


def active_wording(session: Session, agency: Agency, letter_type: str, *, catalogue: WordingCatalogue
                   ) -> ActiveWording:
    """The wording in force for `letter_type`: the active version, or the built-in one (version 0)."""
    _known_type(catalogue, letter_type)
    row = _active_row(session, agency.id, letter_type)
    slots = catalogue.default_slots(letter_type)
    if row is not None:
        slots.update({name: text for name, text in row.slots.items() if name in slots})
    return ActiveWording(letter_type, row.version if row is not None else BUILT_IN_VERSION, slots,
                         catalogue.placeholder_names(letter_type))


def _authorize(actor: User | None, agency: Agency) -> None:
    # No actor: the command line, run by whoever administers the deployment (as `gongkai agency add`).
    if actor is not None and (not actor.has_role("admin") or actor.agency_id != agency.id):
        raise PermissionDenied("只有本机关的系统管理员可以修改文书措辞")


def _problems_message(problems: Mapping[str, str]) -> str:
    return "措辞未保存：" + "；".join(problems.values())


def _lock(session: Session, agency: Agency) -> None:
    # Versions are numbered and activated under the agency's row lock (the audit chain head takes the same lock).
    session.execute(select(Agency.id).where(Agency.id == agency.id).with_for_update(key_share=True))


def _changes(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"before": before.get(name, ""), "after": text}
            for name, text in after.items() if before.get(name, "") != text}


def save_wording(session: Session, agency: Agency, letter_type: str, slots: Mapping[str, object], *,
                 catalogue: WordingCatalogue, actor: User | None, activate: bool = True,
                 source: str = "") -> LetterWording:
    """A new version of the agency's wording of `letter_type`: the slots given replace those of the version in
    force, the rest are kept. Refused, naming each slot, if any text is not plain text with known placeholders or
    its preview has a wording problem the built-in wording does not (`letters.lint`). Audited; nothing is changed."""
    _authorize(actor, agency)
    _known_type(catalogue, letter_type)
    if not isinstance(slots, Mapping) or not slots:
        raise InvalidInput("请至少提供一段措辞（slots）", details={"slots": "缺失"})
    problems = catalogue.check(letter_type, slots, agency=agency_fields(agency))
    if problems:
        raise InvalidInput(_problems_message(problems), details=dict(problems))
    _lock(session, agency)
    current = active_wording(session, agency, letter_type, catalogue=catalogue)
    new_slots = {**current.slots, **{name: str(text).strip() for name, text in slots.items()}}
    problems = catalogue.check(letter_type, new_slots, agency=agency_fields(agency))
    if problems:
        raise InvalidInput(_problems_message(problems), details=dict(problems))
    last = session.scalar(select(func.max(LetterWording.version)).where(
        LetterWording.agency_id == agency.id, LetterWording.letter_type == letter_type)) or BUILT_IN_VERSION
    row = LetterWording(agency_id=agency.id, letter_type=letter_type, version=last + 1, slots=new_slots,
                        active=False, source=source.strip()[:200], created_by_id=getattr(actor, "id", None),
                        created_at=utcnow())
    session.add(row)
    session.flush()
    record_event(session, agency_id=agency.id, action="save_letter_wording", actor=actor,
                 changes={"letter_type": letter_type, "version": row.version, "source": row.source,
                          "based_on": current.version, "slots": _changes(current.slots, new_slots)})
    if activate:
        activate_wording(session, agency, letter_type, row.version, actor=actor)
    return row


def activate_wording(session: Session, agency: Agency, letter_type: str, version: int, *,
                     actor: User | None) -> int:
    """Put a saved version (or 0, the built-in wording) in force for the agency's next letters; audited. Letters
    already issued keep the wording they were frozen with."""
    _authorize(actor, agency)
    _lock(session, agency)
    rows = session.scalars(select(LetterWording).where(
        LetterWording.agency_id == agency.id, LetterWording.letter_type == letter_type)).all()
    if version != BUILT_IN_VERSION and not any(row.version == version for row in rows):
        raise NotFound(f"没有第{version}版措辞")
    previous = next((row.version for row in rows if row.active), BUILT_IN_VERSION)
    for row in rows:
        if row.active and row.version != version:
            row.active = False
    session.flush()  # the old version leaves before the new one enters
    for row in rows:
        if row.version == version:
            row.active = True
    session.flush()
    record_event(session, agency_id=agency.id, action="activate_letter_wording", actor=actor,
                 changes={"letter_type": letter_type, "version": version, "previous_version": previous})
    return version


def wording_history(session: Session, agency: Agency, letter_type: str, *, catalogue: WordingCatalogue
                    ) -> list[WordingVersionView]:
    """Every saved version of `letter_type`, newest first, each with what changed from the version before it
    (version 1 from the built-in wording)."""
    _known_type(catalogue, letter_type)
    rows = session.scalars(select(LetterWording).where(
        LetterWording.agency_id == agency.id, LetterWording.letter_type == letter_type)
        .order_by(LetterWording.version)).all()
    names = {user.id: user.display_name or user.username for user in session.scalars(
        select(User).where(User.id.in_({row.created_by_id for row in rows if row.created_by_id})))}
    before = catalogue.default_slots(letter_type)
    views = []
    for row in rows:
        views.append(WordingVersionView(row.version, row.active, names.get(row.created_by_id, "命令行"),
                                        row.created_at, row.source, dict(row.slots),
                                        _changes(before, row.slots)))
        before = row.slots
    return views[::-1]


def import_wording(session: Session, agency: Agency, payload: object, *, catalogue: WordingCatalogue,
                   actor: User | None, activate: bool = True, source: str = "") -> list[LetterWording]:
    """A province's (or another agency's) wording from a file `{"letters": {TYPE: {"slots": {…}}}}`: one new
    version per letter type, all or nothing; every refused slot is named as TYPE.SLOT."""
    _authorize(actor, agency)
    letters = payload.get("letters") if isinstance(payload, Mapping) else None
    if not isinstance(letters, Mapping) or not letters:
        raise InvalidInput("导入文件格式不对：应为 {\"letters\": {\"文书类型\": {\"slots\": {…}}}}",
                           details={"letters": "缺失"})
    if len(letters) > MAX_IMPORT_TYPES:
        raise InvalidInput("导入文件中的文书类型过多")
    problems: dict[str, str] = {}
    for letter_type, entry in letters.items():
        slots = entry.get("slots") if isinstance(entry, Mapping) else None
        if letter_type not in catalogue.letter_types:
            problems[str(letter_type)] = f"未知的文书类型：{letter_type}"
        elif not isinstance(slots, Mapping) or not slots:
            problems[str(letter_type)] = f"{catalogue.title(letter_type)}缺少 slots"
        else:
            for name, message in catalogue.check(letter_type, slots, agency=agency_fields(agency)).items():
                problems[f"{letter_type}.{name}"] = f"{catalogue.title(letter_type)}：{message}"
    if problems:
        raise InvalidInput("导入未完成，没有保存任何措辞：" + "；".join(problems.values()), details=problems)
    return [save_wording(session, agency, letter_type, entry["slots"], catalogue=catalogue, actor=actor,
                         activate=activate, source=source) for letter_type, entry in letters.items()]
