"""Issuing letters inside an action's transaction: number, render with the injected renderer, freeze, audit.

Only use cases call these; no view or job issues a letter by itself (DESIGN §1: an action is one call).

A letter may also be issued to be rendered after the commit (`render_later`): its number, data snapshot, template
version, wording version and signing key are fixed in the action's transaction, and a `render_letter` job (or the
request itself, once committed) renders it with the same renderer and key, freezes its bytes and SHA-256 once and
records them in the agency's audit chain. Until then the letter is *pending* (`is_pending`): no bytes, no hash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import GongkaiError, RuleViolation
from engine.persistence.audit import record_event, utcnow
from engine.persistence.direct_insert import insert_new
from engine.persistence.models import Agency, Case, Job, Letter, User
from engine.persistence.numbering import LETTER, format_number, next_number
from engine.services import jobs
from engine.services.case_events import CaseEvent, publish
from engine.services.letter_wording import BUILT_IN_VERSION, with_active_wording
from engine.services.search_text import refresh_search_text
from engine.services.signing_keys import SigningRequest, signing_request, signing_request_for_key

# The job kind that renders a letter issued with `render_later` (registered by the web layer's job bodies, which
# hold the renderer); in the quick lane, beside the messages.
RENDER_JOB = "render_letter"
PENDING_LABEL = "正在生成"


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


class PreparingRenderer(LetterRenderer, Protocol):
    """A renderer that can also fix what an issued letter will be without rendering it: `prepare` checks the data
    (and, for a numbered letter, the fonts and seal) as rendering would and returns (template version, data
    snapshot). Only such a renderer can issue a letter to be rendered after the commit."""

    def prepare(self, letter_type: str, data: dict) -> tuple[str, dict]: ...


def is_pending(letter: Letter) -> bool:
    """Issued, but its PDF not yet rendered (no bytes and no hash yet; see `render_pending_letter`)."""
    return not letter.sha256


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
                 signed: bool = False, render_later: bool = False) -> Letter:
    """Number, render with the agency's active wording, sign and freeze one letter in the caller's transaction (a
    failed render leaves nothing).

    Every letter is signed with the agency's key when it has one (PAdES, by the injected renderer); a `signed`
    letter — the reply a legal reviewer 签发 and its corrections — must be, so without a key it is refused.

    `render_later` (with a renderer that can `prepare`): everything but the bytes is fixed here — number, data
    snapshot, template and wording versions, signing key — and a `render_letter` job renders and freezes the PDF
    after the commit (`render_pending_letter`), so the action's locks are not held while WeasyPrint works."""
    agency = session.get(Agency, case.agency_id)
    now = utcnow()
    identity = signing_request(session, agency, actor, signs_reply=signed, now=now, today=today)
    doc_number = next_letter_number(session, agency, today.year) if numbered else None
    data = with_active_wording(session, agency.id, letter_type, build(doc_number))
    wording_version = (data.get("wording") or {}).get("version", BUILT_IN_VERSION)
    prepare = getattr(renderer, "prepare", None) if render_later else None
    if prepare is not None:
        template_version, snapshot = _prepare(prepare, letter_type, data)
        pdf, sha256 = b"", ""
    else:
        rendered = render(renderer, letter_type, data, draft=False, signing=identity[1] if identity else None)
        template_version, snapshot, pdf, sha256 = (rendered.template_version, rendered.data_snapshot,
                                                   rendered.pdf, rendered.sha256)
    letter = Letter(case_id=case.id, letter_type=letter_type, doc_number=doc_number or "", issued_on=today,
                    pdf=pdf, sha256=sha256, size_bytes=len(pdf), template_version=template_version,
                    data_snapshot=snapshot, wording_version=wording_version,
                    signed_by_id=actor.id if signed else None,
                    signing_key_id=identity[0].id if identity else None, created_at=now)
    insert_new(session, [[letter]])  # its id for the event; what else is pending is flushed with the event
    if letter.doc_number:
        refresh_search_text(session, case)  # the 文号 a caller or a 复议机关 quotes finds the case
    changes = {"letter_id": letter.id, "type": letter_type, "doc_number": letter.doc_number,
               "template_version": letter.template_version, "wording_version": wording_version,
               **({"signed_with": identity[0].fingerprint_sha256} if identity else {})}
    if is_pending(letter):
        changes["rendering"] = "pending"  # its hash is recorded by the `render_letter` event
        signing = identity[1] if identity else None
        jobs.enqueue(session, RENDER_JOB, agency_id=case.agency_id, requested_by=getattr(actor, "username", ""),
                     dedupe_key=f"{RENDER_JOB}:{letter.id}", letter_id=letter.id,
                     signer_role=signing.signer_role if signing else "",
                     agency_name=signing.agency_name if signing else agency.name)
    else:
        changes["sha256"] = letter.sha256
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action="issue_letter",
                 stage_before=case.stage, stage_after=case.stage, changes=changes)
    publish(session, CaseEvent(case, "issue_letter", actor, case.stage, case.stage,
                               {"letter_id": letter.id, "type": letter_type, "doc_number": letter.doc_number},
                               letter=letter))
    return letter


def _prepare(prepare, letter_type: str, data: dict) -> tuple[str, dict]:
    try:
        return prepare(letter_type, data)
    except GongkaiError:
        raise
    except Exception as exc:  # LetterDataError / LetterRenderError, as `render` says them
        field = getattr(exc, "field", None)
        raise RuleViolation(f"文书无法生成：{exc}", details={"field": field}) from exc


def render_pending_letter(session: Session, letter_id: int, renderer_for: Callable[[Agency], LetterRenderer]) -> bool:
    """Render a letter issued with `render_later` and freeze it: bytes, SHA-256 and size written once, and a
    `render_letter` event in the agency's chain records the hash (so `audit verify` and downloads prove the bytes).

    Idempotent: a letter already rendered is left alone (False). The case row is locked first, so this event's
    state digest and any concurrent action's are taken in turn, never from each other's stale view. The letter is
    rendered from its frozen data snapshot with its frozen signing key. If the template changed between the issue and
    the rendering (a deploy in between), nobody has seen the letter yet: it is rendered with the template in force,
    which must accept the frozen data, and the letter and the event say which version that was (and the one it was
    issued under), so the letter always says what its template version says."""
    letter = session.get(Letter, letter_id)
    if letter is None:
        return False
    session.execute(select(Case.id).where(Case.id == letter.case_id).with_for_update())
    case = session.get(Case, letter.case_id, populate_existing=True)
    letter = session.scalar(select(Letter).where(Letter.id == letter_id).with_for_update()
                            .execution_options(populate_existing=True))
    if not is_pending(letter):
        return False
    agency = session.get(Agency, case.agency_id)
    signing = None
    if letter.signing_key_id is not None:
        # What the visible signature says was fixed at issue, in the render job's arguments.
        args = session.scalar(select(Job.args).where(Job.dedupe_key == f"{RENDER_JOB}:{letter.id}")) or {}
        signing = signing_request_for_key(session, letter.signing_key_id,
                                          agency_name=args.get("agency_name") or agency.name,
                                          signer_role=args.get("signer_role", ""), signed_on=letter.issued_on)
    rendered = render(renderer_for(agency), letter.letter_type, dict(letter.data_snapshot), draft=False,
                      signing=signing)
    changes = {"letter_id": letter.id, "type": letter.letter_type, "doc_number": letter.doc_number,
               "sha256": rendered.sha256, "size_bytes": len(rendered.pdf),
               "template_version": rendered.template_version}
    if rendered.template_version != letter.template_version:
        changes["template_version_at_issue"] = letter.template_version
        letter.template_version = rendered.template_version
    letter.pdf, letter.sha256, letter.size_bytes = rendered.pdf, rendered.sha256, len(rendered.pdf)
    session.flush()
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=None, action="render_letter",
                 stage_before=case.stage, stage_after=case.stage, changes=changes)
    publish(session, CaseEvent(case, "render_letter", None, case.stage, case.stage,
                               {"letter_id": letter.id, "type": letter.letter_type, "doc_number": letter.doc_number},
                               letter=letter))
    return True


def pending_letter_ids(session: Session, case_id: int) -> list[int]:
    """The case's letters still being rendered (an export or an archive waits for them)."""
    return list(session.scalars(select(Letter.id).where(Letter.case_id == case_id, Letter.sha256 == "")
                                .order_by(Letter.id)))


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
