"""The job bodies: archival case-file exports (one case, a whole year), the due-date recomputation after a
calendar update, and the purge of old job results. Each is idempotent: an interrupted attempt leaves
nothing that the next one would duplicate (files go to the attempt's own folder; the result is stored
with the job's final state in one transaction; recomputation changes only what still differs).
"""

from __future__ import annotations

import os
import zipfile
from datetime import timedelta
from pathlib import Path

from engine.persistence.db import session_factory
from engine.persistence.models import Agency
from engine.services import webhooks  # noqa: F401  (registers the webhook delivery job)
from engine.services.casefile_package import safe_filename
from engine.services.issuing import RENDER_JOB
from engine.services.jobs import JobContext, JobOutput, job_kind, purge_finished

# Who may see a job of each kind (and download its result) in the web application.
VIEW_ROLES = {
    "archive_export_year": ("archivist", "admin"),
    "archive_export_case": ("archivist", "admin"),
    "calendar_recompute": ("admin",),
    "purge_finished_jobs": ("admin",),
    "send_message": ("admin",),
    "staff_digests": ("admin",),
    "webhook_delivery": ("admin",),
    "render_letter": ("admin",),
}
RECOMPUTE_BATCH = 200
KEEP_FINISHED_JOBS = timedelta(days=30)


@job_kind("archive_export_year", "年度案卷批量导出")
def export_year(ctx: JobContext) -> JobOutput:
    from engine.services.casefile_collect import archived_case_ids
    from webui.archive_export.bulk import export_cases

    year = int(ctx.args["year"])
    with session_factory(ctx.engine)() as session:
        agency = session.get(Agency, ctx.agency_id)
        code = agency.code
        ids = archived_case_ids(session, agency.id, year)
    ctx.progress(0, len(ids), "开始导出", force=True)
    folder = ctx.work_dir / "cases"
    folder.mkdir()
    exported, failed = 0, []
    url = ctx.engine.url.render_as_string(hide_password=False)
    for result in export_cases(url, ctx.agency_id, ids, folder):
        if result.error:
            failed.append(result.error)
        else:
            exported += 1
        ctx.progress(exported + len(failed), len(ids), f"已导出 {exported} 件")
    ctx.progress(exported + len(failed), len(ids), "正在打包", force=True)
    bundle = _bundle(folder, ctx.work_dir / (safe_filename(f"{code}-{year}-案卷") + ".zip"))
    message = f"已导出 {exported} 件" + (f"，{len(failed)} 件未能导出" if failed else "") if ids else \
        f"{year} 年度没有已归档的案件"
    return JobOutput({"year": year, "exported": exported, "failed": failed, "message": message}, bundle)


@job_kind("archive_export_case", "案卷导出")
def export_case(ctx: JobContext) -> JobOutput:
    from engine.services.archive_export import export_case as export_one
    from webui.archive_export.rendering import renderer_for_agency

    ctx.progress(0, 1, "正在导出", force=True)
    with session_factory(ctx.engine)() as session:
        agency = session.get(Agency, ctx.agency_id)
        path = export_one(session, agency_id=agency.id, reg_no=ctx.args["reg_no"], out_dir=ctx.work_dir,
                          renderer=renderer_for_agency(agency))
        session.rollback()
    ctx.progress(1, 1, "已导出", force=True)
    return JobOutput({"reg_no": ctx.args["reg_no"], "message": f"已导出 {path.name}"}, path)


@job_kind("calendar_recompute", "重新计算答复期限")
def recompute_due_dates(ctx: JobContext) -> JobOutput:
    """One transaction per batch, each with its progress: an interrupted run resumes harmlessly, because a
    case already recomputed no longer changes (and so gets no second audit event)."""
    from engine.services.recalc import count_open_cases, recompute_due_dates_batch

    with session_factory(ctx.engine)() as session:
        total = count_open_cases(session)
    ctx.progress(0, total, "开始重新计算", force=True)
    after_id, seen, changed = 0, 0, []
    while True:
        with ctx.transaction() as session:
            found, last_id, count = recompute_due_dates_batch(session, after_id=after_id, limit=RECOMPUTE_BATCH)
            if last_id is not None:
                seen += count
                changed.extend(f"{c.reg_no}：{c.before} → {c.after}" for c in found)
                ctx.progress(seen, max(total, seen), f"已重新计算 {seen} 件", session=session)
        if last_id is None:
            break
        after_id = last_id
    return JobOutput({"cases": seen, "changed": len(changed), "changes": changed[:500],
                      "message": f"已重新计算 {seen} 件在办申请的答复期限，{len(changed)} 件有变化"})


@job_kind(RENDER_JOB, "生成文书", max_attempts=5, backoff_seconds=5.0)
def render_letter(ctx: JobContext) -> JobOutput:
    """Render and freeze a letter issued with `render_later` (the receipt of an API registration): once; a retry
    after success, or a letter the counter already rendered, changes nothing."""
    from webui.letters_adapter import render_pending

    with ctx.transaction() as session:
        rendered = render_pending(session, int(ctx.args["letter_id"]))
    return JobOutput({"letter_id": ctx.args["letter_id"], "rendered": rendered,
                      "message": "文书已生成" if rendered else "文书此前已生成"})


@job_kind("purge_finished_jobs", "清理过期任务")
def purge_old_jobs(ctx: JobContext) -> JobOutput:
    with ctx.transaction() as session:
        removed = purge_finished(session, older_than=KEEP_FINISHED_JOBS)
    return JobOutput({"removed": removed, "message": f"已清理 {removed} 个 30 天前结束的任务"})


def _bundle(folder: Path, target: Path) -> Path | None:
    """One ZIP of the year's case-file ZIPs (stored, not recompressed); the loose copies are removed."""
    cases = sorted(folder.glob("*.zip"))
    if not cases:
        return None
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as bundle:
        for path in cases:
            bundle.write(path, arcname=path.name)
            path.unlink()
    os.replace(partial, target)
    return target
