"""Issuing letters inside an action's transaction: number, render with the injected renderer, freeze, audit.

Only use cases call these; no view or job issues a letter by itself (DESIGN §1: an action is one call).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import GongkaiError, RuleViolation
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import Agency, Case, Letter, User
from engine.persistence.numbering import LETTER, format_number, next_number
from engine.services.case_events import CaseEvent, publish
from engine.services.letter_wording import BUILT_IN_VERSION, with_active_wording
from engine.services.search_text import refresh_search_text
from engine.services.signing_keys import SigningRequest, signing_request


class RenderedLike(Protocol):
    pdf: bytes
    sha256: str
    template_version: str
    data_snapshot: dict


class LetterRenderer(Protocol):
    """Renders a letter type from plain data (the web, API and CLI pass `webui.letters_adapter.renderer_for`: the
    letters package with the agency's fonts and seal) and, given a `signing` request, signs it with that key.
    An issued letter (`draft=False`) is refused when a font or the seal is missing; a renderer may also say so
    beforehand with `issue_problems() -> list[str]` (see `renderer_problems`)."""

    def __call__(self, letter_type: str, data: dict, *, draft: bool = False,
                 signing: SigningRequest | None = None) -> RenderedLike: ...


def renderer_problems(renderer: LetterRenderer | None) -> list[str]:
    """What the renderer lacks to set an issued letter (a font, the seal image), when it can tell before rendering:
    the sign page shows it before the click; a renderer that cannot tell refuses when it renders."""
    check = getattr(renderer, "issue_problems", None)
    return list(check()) if check is not None else []


def render(renderer: LetterRenderer, letter_type: str, data: dict, *, draft: bool,
           signing: SigningRequest | None = None) -> RenderedLike:
    """Render or refuse: a letter that cannot render (missing remedies, recipient, basis…) stops the action."""
    try:
        if signing is not None:
            return renderer(letter_type, data, draft=draft, signing=signing)
        return renderer(letter_type, data, draft=draft)
    except GongkaiError:
        raise
    except Exception as exc:  # LetterDataError / LetterRenderError from the letters package
        field = getattr(exc, "field", None)
        raise RuleViolation(f"文书无法生成：{exc}", details={"field": field}) from exc


def next_letter_number(session: Session, agency: Agency, year: int) -> str:
    n = next_number(session, agency.id, LETTER, year)
    return format_number(agency.letter_no_pattern, year=year, n=n, prefix=agency.letter_no_prefix or agency.name,
                         code=agency.code)


def issue_letter(session: Session, case: Case, letter_type: str, build: Callable[[str | None], dict], *,
                 renderer: LetterRenderer, actor: User, today: date, numbered: bool = True,
                 signed: bool = False) -> Letter:
    """Number, render with the agency's active wording, sign and freeze one letter in the caller's transaction (a
    failed render leaves nothing).

    Every letter is signed with the agency's key when it has one (PAdES, by the injected renderer); a `signed`
    letter — the reply a legal reviewer 签发 and its corrections — must be, so without a key it is refused."""
    agency = session.get(Agency, case.agency_id)
    now = utcnow()
    identity = signing_request(session, agency, actor, signs_reply=signed, now=now, today=today)
    doc_number = next_letter_number(session, agency, today.year) if numbered else None
    data = with_active_wording(session, agency.id, letter_type, build(doc_number))
    rendered = render(renderer, letter_type, data, draft=False, signing=identity[1] if identity else None)
    wording_version = (data.get("wording") or {}).get("version", BUILT_IN_VERSION)
    letter = Letter(case_id=case.id, letter_type=letter_type, doc_number=doc_number or "", issued_on=today,
                    pdf=rendered.pdf, sha256=rendered.sha256, size_bytes=len(rendered.pdf),
                    template_version=rendered.template_version, data_snapshot=rendered.data_snapshot,
                    wording_version=wording_version, signed_by_id=actor.id if signed else None,
                    signing_key_id=identity[0].id if identity else None, created_at=now)
    session.add(letter)
    session.flush()
    if letter.doc_number:
        refresh_search_text(session, case)  # the 文号 a caller or a 复议机关 quotes finds the case
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action="issue_letter",
                 stage_before=case.stage, stage_after=case.stage,
                 changes={"letter_id": letter.id, "type": letter_type, "doc_number": letter.doc_number,
                          "sha256": letter.sha256, "template_version": letter.template_version,
                          "wording_version": wording_version,
                          **({"signed_with": identity[0].fingerprint_sha256} if identity else {})})
    publish(session, CaseEvent(case, "issue_letter", actor, case.stage, case.stage,
                               {"letter_id": letter.id, "type": letter_type, "doc_number": letter.doc_number},
                               letter=letter))
    return letter


def latest_letter_number(session: Session, case: Case, letter_type: str) -> str | None:
    return session.scalar(select(Letter.doc_number).where(Letter.case_id == case.id, Letter.letter_type == letter_type)
                          .order_by(Letter.id.desc()).limit(1))


def current_reply(session: Session, case: Case) -> Letter | None:
    """The reply in force: the latest reply letter that no correction has superseded."""
    letters = session.scalars(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "reply")
                              .order_by(Letter.id)).all()
    superseded = {letter.supersedes_id for letter in letters if letter.supersedes_id}
    live = [letter for letter in letters if letter.id not in superseded]
    return live[-1] if live else None
