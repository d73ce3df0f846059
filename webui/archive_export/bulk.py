"""Bulk export of a year's case files with bounded memory: one case at a time per process, each ZIP
written straight to the target folder. With `jobs` > 1 the case ids are dealt to worker processes in
small batches (WeasyPrint is single-threaded, so processes, not threads, use the second core)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from engine.services.archive_export import ExportResult

BATCH_SIZE = 8
_worker: dict = {}


def export_cases(database_url: str, agency_id: int, case_ids: list[int], out_dir: Path, *, jobs: int = 1,
                 exported_at: datetime | None = None) -> Iterator[ExportResult]:
    """Export the given archived cases into `out_dir`, yielding one result per case as it is written."""
    moment = exported_at or datetime.now(UTC)
    if jobs <= 1 or len(case_ids) <= BATCH_SIZE:
        _start_worker(database_url, agency_id)
        try:
            yield from _export_batch(case_ids, str(out_dir), moment)
        finally:
            _stop_worker()
        return
    batches = [case_ids[i:i + BATCH_SIZE] for i in range(0, len(case_ids), BATCH_SIZE)]
    # spawn, not fork: the children open their own database connections and font maps.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_start_worker,
                             initargs=(database_url, agency_id)) as pool:
        futures = [pool.submit(_export_batch_list, batch, str(out_dir), moment) for batch in batches]
        for future in as_completed(futures):
            yield from future.result()


def _start_worker(database_url: str, agency_id: int) -> None:
    from engine.persistence.db import make_engine, session_factory
    from engine.persistence.models import Agency
    from webui.archive_export.rendering import renderer_for_agency

    engine = make_engine(database_url)
    session = session_factory(engine)()
    agency = session.get(Agency, agency_id)
    _worker.update(engine=engine, session=session, agency_id=agency_id, renderer=renderer_for_agency(agency))
    session.expunge_all()


def _stop_worker() -> None:
    session, engine = _worker.pop("session", None), _worker.pop("engine", None)
    if session is not None:
        session.close()
    if engine is not None:
        engine.dispose()
    _worker.clear()


def _export_batch(case_ids: list[int], out_dir: str, moment: datetime) -> Iterator[ExportResult]:
    from engine.services.archive_export import export_year

    session = _worker["session"]
    try:
        yield from export_year(session, agency_id=_worker["agency_id"], out_dir=Path(out_dir),
                               renderer=_worker["renderer"], case_ids=case_ids, exported_at=moment)
    finally:
        session.rollback()  # read-only work: end the transaction so no snapshot is held between batches


def _export_batch_list(case_ids: list[int], out_dir: str, moment: datetime) -> list[ExportResult]:
    return list(_export_batch(case_ids, out_dir, moment))
