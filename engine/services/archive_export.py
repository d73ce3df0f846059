"""Export archived case files (案卷, 条例45 归档: 档案移交、利用) as self-contained ZIPs, one case or a year.

Each export collects the case file from the database (`casefile_collect`) and writes its package with the
injected renderer (`casefile_package`); checking a package again is `webui.archive_export.verify`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from engine.errors import GongkaiError, InvalidInput
from engine.persistence.models import Case, Job
from engine.services import jobs
from engine.services.casefile_collect import (
    archived_case_ids,
    collect_case_file,
    ensure_archived,
    find_archived_case,
)
from engine.services.casefile_package import CaseFileRenderer, write_case_file


@dataclass(frozen=True)
class ExportResult:
    reg_no: str
    path: Path | None
    error: str | None = None


def export_case(session: Session, *, agency_id: int, reg_no: str, out_dir: Path, renderer: CaseFileRenderer,
                exported_at: datetime | None = None) -> Path:
    """Export one archived case file (档案移交、利用) as a ZIP in `out_dir`."""
    case = find_archived_case(session, agency_id, reg_no)
    case_file = collect_case_file(session, case, exported_at=exported_at or datetime.now(UTC))
    return write_case_file(case_file, out_dir, renderer)


def export_year(session: Session, *, agency_id: int, year: int | None = None, out_dir: Path, renderer: CaseFileRenderer,
                case_ids: list[int] | None = None, exported_at: datetime | None = None) -> Iterator[ExportResult]:
    """Every archived case file of a year, one at a time: each ZIP is written, then the session is emptied,
    so memory stays bounded by the largest single case whatever the number of cases."""
    ids = case_ids if case_ids is not None else archived_case_ids(session, agency_id, year or 0)
    moment = exported_at or datetime.now(UTC)
    for case_id in ids:
        case = session.get(Case, case_id)
        reg_no = case.reg_no
        try:
            case_file = collect_case_file(session, case, exported_at=moment)
            path = write_case_file(case_file, out_dir, renderer)
            yield ExportResult(reg_no, path)
        except GongkaiError as error:
            yield ExportResult(reg_no, None, error.message)
        finally:
            session.expunge_all()



def request_case_export(session: Session, *, agency_id: int, reg_no: str, requested_by: str) -> Job:
    """Queue the export of one archived case file; refused at once (not in the job) if it is not archived."""
    case = find_archived_case(session, agency_id, reg_no)
    ensure_archived(case)
    return jobs.enqueue(session, "archive_export_case", agency_id=agency_id, requested_by=requested_by,
                        reg_no=case.reg_no)


def request_year_export(session: Session, *, agency_id: int, year: int, requested_by: str, today) -> Job:
    """Queue the export of every archived case file of `year` into one bundle."""
    if not 2008 <= year <= today.year:
        raise InvalidInput(f"年度应在 2008 至 {today.year} 之间")
    return jobs.enqueue(session, "archive_export_year", agency_id=agency_id, requested_by=requested_by, year=year)
