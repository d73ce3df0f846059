"""Benchmark: the whole annual report (国办公开办函〔2021〕30号) as a PDF/A — warm render and the CLI end to end.

A SQLite database with one agency, 2,000 cases of 2025 over every outcome, and parts 一、二、五、六 entered; the PDF
is rendered five times in this process (median), then `gongkai report annual --format pdf` runs three times in new
processes (median, imports and fonts included). Goals: warm render ≤ 3 s, end to end ≤ 8 s (a
new process imports WeasyPrint and loads the CJK fonts before it renders).

    .venv/bin/python bench/bench_report_pdf.py
"""

from __future__ import annotations

import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.persistence import db as dbmod  # noqa: E402
from engine.persistence.audit import utcnow  # noqa: E402
from engine.persistence.models import Applicant, Case  # noqa: E402
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOME_CODES  # noqa: E402
from engine.services.accounts import add_agency, add_user  # noqa: E402
from engine.services.report_text import PROACTIVE_CELLS, cell_field, save_report_content  # noqa: E402
from engine.services.reports import full_report  # noqa: E402
from webui.reports.exports import render_pdf  # noqa: E402

WARM_LIMIT_SECONDS = 3.0
CLI_LIMIT_SECONDS = 8.0


def populate(url: str, cases: int = 2000, seed: int = 13) -> None:
    rng = random.Random(seed)
    with dbmod.session_factory(dbmod.make_engine(url))() as session:
        agency = add_agency(session, "BENCH", "基准测试市人民政府办公室")
        head = add_user(session, agency, "head", "bench-password-1", ["office_head"])
        now = utcnow()
        for n in range(cases):
            applicant = Applicant(agency_id=agency.id, kind=rng.choice(list(APPLICANT_TYPES)), name=f"申请人{n}")
            session.add(applicant)
            session.flush()
            received_on = date(2025, 1, 2) + timedelta(days=rng.randrange(0, 360))
            session.add(Case(agency_id=agency.id, reg_no=f"依申请〔2025〕{n + 1}号", reg_year=2025, reg_seq=n + 1,
                             applicant_id=applicant.id, applicant_kind=applicant.kind, stage="replied", channel="online", submitted_on=received_on,
                             received_on=received_on, finished_on=received_on + timedelta(days=10),
                             report_outcome=rng.choice(OUTCOME_CODES), created_at=now, updated_at=now))
        paragraph = "本年度，本机关坚持以公开为常态、不公开为例外，持续推进政务公开标准化规范化建设。" * 4
        save_report_content(session, agency, 2025, actor=head,
                            texts={"OVERVIEW": "\n".join([paragraph] * 6), "PROBLEMS": "\n".join([paragraph] * 2),
                                   "OTHER": "本年度未收取信息处理费。"},
                            figures={cell_field(r, c): str(rng.randrange(0, 5000)) for r, c in PROACTIVE_CELLS})
        session.commit()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        dbmod.upgrade(url)
        populate(url)
        with dbmod.session_factory(dbmod.make_engine(url))() as session:
            from engine.services.accounts import agency_by_code

            full = full_report(session, 2025, agency_by_code(session, "BENCH"))
        assert full.complete, full.draft_reasons()
        render_pdf(full)  # first render: fonts and stylesheets
        warm = []
        for _ in range(5):
            started = time.perf_counter()
            pdf = render_pdf(full)
            warm.append(time.perf_counter() - started)
        gongkai = str(Path(sys.executable).with_name("gongkai"))
        out = Path(tmp) / "report.pdf"
        cli = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([gongkai, "report", "annual", "--year", "2025", "--agency", "BENCH", "--format", "pdf",
                            "--out", str(out)], check=True, capture_output=True,
                           env={**os.environ, "GONGKAI_DATABASE_URL": url})
            cli.append(time.perf_counter() - started)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"whole annual report PDF/A: {len(pdf) / 1024:.0f} KB, {pages} pages; warm render median "
          f"{statistics.median(warm):.2f} s (goal ≤ {WARM_LIMIT_SECONDS} s); `gongkai report annual --format pdf` "
          f"median {statistics.median(cli):.2f} s (goal ≤ {CLI_LIMIT_SECONDS} s)")
    return 0 if statistics.median(warm) <= WARM_LIMIT_SECONDS and statistics.median(cli) <= CLI_LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
