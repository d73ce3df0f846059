"""Background bulk export for the web UI: a thread per job, its state in a JSON file under var/exports/.

A job file is the single source of truth (rewritten atomically after every case), so any web worker can
show the progress; the thread exports one case at a time (bounded memory) and bundles the ZIPs at the end.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from engine.services.casefile_package import safe_filename

JOB_ID = re.compile(r"^[0-9a-f]{16}$")
_lock = threading.Lock()


def jobs_dir() -> Path:
    from engine.config import load_settings

    return load_settings().var_dir / "exports"


def start_year_export(database_url: str, *, agency_id: int, agency_code: str, user_name: str, year: int,
                      base: Path | None = None) -> str:
    """Create the job file and start its thread; returns the job id."""
    base = base or jobs_dir()
    job_id = secrets.token_hex(8)
    folder = base / job_id
    (folder / "cases").mkdir(parents=True)
    job = {"id": job_id, "agency_id": agency_id, "agency_code": agency_code, "year": year, "user": user_name,
           "status": "queued", "total": None, "done": 0, "failed": [], "bundle": None, "message": "",
           "started_at": _now(), "finished_at": None}
    _save(folder, job)
    thread = threading.Thread(target=_run, args=(database_url, folder, job), name=f"archive-export-{job_id}",
                              daemon=True)
    thread.start()
    return job_id


def load_job(job_id: str, *, base: Path | None = None) -> dict | None:
    if not JOB_ID.match(job_id or ""):
        return None
    path = (base or jobs_dir()) / job_id / "job.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def bundle_path(job: dict, *, base: Path | None = None) -> Path | None:
    if not job.get("bundle"):
        return None
    path = (base or jobs_dir()) / job["id"] / job["bundle"]
    return path if path.is_file() else None


def recent_jobs(agency_id: int, *, base: Path | None = None, limit: int = 10) -> list[dict]:
    base = base or jobs_dir()
    if not base.is_dir():
        return []
    found = [job for job in (load_job(p.name, base=base) for p in base.iterdir() if p.is_dir())
             if job and job["agency_id"] == agency_id]
    return sorted(found, key=lambda job: job["started_at"], reverse=True)[:limit]


def _run(database_url: str, folder: Path, job: dict) -> None:
    from engine.persistence.db import make_engine, session_factory
    from engine.services.casefile_collect import archived_case_ids
    from webui.archive_export.bulk import export_cases

    try:
        engine = make_engine(database_url)
        with session_factory(engine)() as session:
            ids = archived_case_ids(session, job["agency_id"], job["year"])
        engine.dispose()
        job.update(status="running", total=len(ids))
        _save(folder, job)
        for result in export_cases(database_url, job["agency_id"], ids, folder / "cases"):
            if result.error:
                job["failed"].append(result.error)
            else:
                job["done"] += 1
            _save(folder, job)
        job["bundle"] = _bundle(folder, job)
        job.update(status="done" if not job["failed"] else "done_with_errors", finished_at=_now(),
                   message=f"已导出 {job['done']} 件" + (f"，{len(job['failed'])} 件未能导出" if job["failed"] else ""))
    except Exception as error:  # noqa: BLE001 - a background job must record why it stopped, whatever it was
        job.update(status="failed", finished_at=_now(), message=f"导出中止：{error}")
    _save(folder, job)


def _bundle(folder: Path, job: dict) -> str | None:
    """One ZIP of the year's case-file ZIPs (stored, not recompressed); the loose copies are removed."""
    cases = sorted((folder / "cases").glob("*.zip"))
    if not cases:
        return None
    name = safe_filename(f"{job['agency_code']}-{job['year']}-案卷") + ".zip"
    partial = folder / (name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as bundle:
        for path in cases:
            bundle.write(path, arcname=path.name)
            path.unlink()
    os.replace(partial, folder / name)
    return name


def _save(folder: Path, job: dict) -> None:
    with _lock:
        temp = folder / "job.json.part"
        temp.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        os.replace(temp, folder / "job.json")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
