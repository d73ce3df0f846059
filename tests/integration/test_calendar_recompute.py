"""Loading a new year's notice recomputes open cases' due dates and records each change."""

from __future__ import annotations

import shutil
from datetime import date

from sqlalchemy import select

from engine.persistence.models import AuditEvent
from engine.rules.calendar import default_calendar, load_calendar
from engine.services.recalc import recompute_open_due_dates

from .helpers_cases import register

LATE_DEC = date(2026, 12, 21)


def test_a_new_years_file_replaces_provisional_due_dates_and_is_audited(session, agency, users, tmp_path, project_root):
    case, _ = register(session, users, LATE_DEC)
    assert case.due_provisional  # 20 working days from 21 Dec 2026 run into 2027, not yet published
    provisional_due = case.due_on
    data = tmp_path / "holidays"
    shutil.copytree(project_root / "holidays", data)
    # A 2027 notice that gives 4–5 January 2027 off: the due date moves two working days later.
    (data / "2027.toml").write_text(
        'year = 2027\n\n[[notices]]\nnumber = "国办发明电〔2026〕99号"\ntitle = "测试通知"\n'
        'published_on = 2026-11-01\n\n[[blocks]]\nname = "元旦"\nnotice = "国办发明电〔2026〕99号"\n'
        'rest = [2027-01-01, 2027-01-02, 2027-01-03, 2027-01-04, 2027-01-05]\n', encoding="utf-8")
    cal = load_calendar(data)
    assert cal.version != default_calendar().version
    changes = recompute_open_due_dates(session, cal=cal)
    session.commit()
    assert [c.case_id for c in changes] == [case.id]
    assert case.due_on > provisional_due
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "recompute_due")).one()
    assert event.changes["due_on"]["before"] == provisional_due.isoformat()
