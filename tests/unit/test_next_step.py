"""The dashboard's next step per role and stage (DESIGN §2 "who acts"), from plain facts."""

from __future__ import annotations

from datetime import date

from engine.rules.calendar import default_calendar
from engine.rules.next_step import CaseFacts, OpenConsultation, PendingLetter, by_urgency, next_step

CAL = default_calendar()
MONDAY = date(2026, 3, 2)  # no holiday in the fortnight after it


def facts(**kw) -> CaseFacts:
    base = {"stage": "registered", "channel": "in_person", "submitted_on": MONDAY, "received_on": MONDAY,
            "due_on": date(2026, 3, 30)}
    return CaseFacts(**{**base, **kw})


def test_an_unconfirmed_plain_letter_asks_the_clerk_to_confirm_it_and_says_how_long_it_waited():
    step = next_step(CAL, facts(stage="received", channel="plain_letter", received_on=None, due_on=None),
                     ["clerk"], date(2026, 3, 5))
    assert step.text == "确认收件：平常信函已等待 3 日" and step.action == "confirm_receipt"


def test_a_registered_case_shows_the_seven_working_day_supplement_window():
    # 条例30: a supplement may be asked within 7 working days of receipt — Mar 3,4,5,6,9,10,11.
    step = next_step(CAL, facts(), ["clerk"], date(2026, 3, 4))
    assert step.by_on == date(2026, 3, 11) and "3月11日 前出具补正告知书" in step.text


def test_after_the_supplement_window_the_clerk_is_asked_to_accept():
    step = next_step(CAL, facts(), ["clerk"], date(2026, 3, 12))
    assert step.text == "受理分办" and step.by_on == date(2026, 3, 30) and step.action == "accept"


def test_a_letter_not_yet_delivered_comes_first_for_the_clerk_with_its_number():
    notice = PendingLetter(7, "extension_notice", "江测公〔2026〕21号", date(2026, 3, 3))
    step = next_step(CAL, facts(stage="signed", undelivered=(notice,)), ["clerk"], date(2026, 3, 4))
    assert step.text == "登记送达：延期答复告知书 江测公〔2026〕21号"
    assert step.action == "record_delivery" and step.letter_id == 7


def test_a_supplement_period_that_ran_out_asks_to_close_the_case_as_lapsed():
    step = next_step(CAL, facts(stage="awaiting_supplement", supplement_requested_on=MONDAY,
                                supplement_due_on=date(2026, 3, 20)), ["clerk"], date(2026, 3, 23))
    assert step.text == "补正期限已届满：按逾期不补正办结" and step.overdue(date(2026, 3, 23))


def test_the_handler_waits_for_the_third_party_until_its_fifteen_days_and_then_records_the_silence():
    open_ = (OpenConsultation("某某公司", date(2026, 3, 24)),)
    waiting = next_step(CAL, facts(stage="consulting", open_consultations=open_), ["handler"], date(2026, 3, 10))
    assert waiting.text == "等待某某公司的意见（至 3月24日）"
    lapsed = next_step(CAL, facts(stage="consulting", open_consultations=open_), ["handler"], date(2026, 3, 25))
    assert lapsed.text == "登记意见：某某公司逾期未提出意见" and lapsed.action == "record_consultation_answer"


def test_each_role_gets_its_own_step_or_none():
    assert next_step(CAL, facts(stage="in_review"), ["legal_reviewer"], MONDAY).action == "sign"
    assert next_step(CAL, facts(stage="in_review"), ["clerk"], MONDAY) is None
    assert next_step(CAL, facts(stage="drafting"), ["handler"], MONDAY).text == "拟写答复书，提交法制审核"
    archive = next_step(CAL, facts(stage="replied", finished_on=date(2026, 3, 20)), ["archivist"], MONDAY)
    assert archive.text == "归档（答复于 3月20日）" and archive.by_on is None
    assert next_step(CAL, facts(stage="in_handling", extension_working_days=10), ["office_head"], MONDAY) is None


def test_steps_sort_by_their_deadline_with_open_ended_ones_last():
    early = next_step(CAL, facts(), ["clerk"], MONDAY)
    late = next_step(CAL, facts(stage="drafting", due_on=date(2026, 4, 1)), ["handler"], MONDAY)
    none = next_step(CAL, facts(stage="closed"), ["archivist"], MONDAY)
    assert sorted([none, late, early], key=by_urgency) == [early, late, none]
