"""The exemption record's elements are defined once (engine.rules.exemptions); the stored columns may not drift."""

from __future__ import annotations

import pytest
from sqlalchemy import Boolean, Integer, String, Text

from engine.persistence.models import ExemptionRecord
from engine.rules.exemptions import (
    CHOICE,
    ELEMENTS,
    FLAG,
    LINE,
    MAX_TEXT,
    REF,
    TEXT,
    ExemptionDraft,
    element_values,
    overlong_elements,
)
from engine.rules.outcomes import OUTCOME_CODES

COLUMNS = ExemptionRecord.__table__.columns
# Columns the handler does not draft: identity, versions (append-only), the legal review and bookkeeping.
NOT_DRAFTED = {"id", "case_id", "item_id", "version", "current", "review_state", "reviewed_by_id", "review_comment",
               "reviewed_at", "department_id", "created_by_id", "created_at"}


def test_every_drafted_column_of_the_exemption_record_is_an_element_and_every_element_a_column():
    assert set(COLUMNS.keys()) - NOT_DRAFTED == {e.name for e in ELEMENTS}


@pytest.mark.parametrize("element", [e for e in ELEMENTS if e.kind in (CHOICE, LINE)], ids=lambda e: e.name)
def test_a_one_line_element_is_limited_to_the_length_of_its_column(element):
    column = COLUMNS[element.name]
    assert type(column.type) is String
    assert column.type.length == element.max_length


@pytest.mark.parametrize("element", [e for e in ELEMENTS if e.kind == TEXT], ids=lambda e: e.name)
def test_a_free_text_element_is_a_text_column_and_limited_like_every_long_text(element):
    assert isinstance(COLUMNS[element.name].type, Text)
    assert element.max_length == MAX_TEXT


@pytest.mark.parametrize("element", [e for e in ELEMENTS if e.kind == FLAG], ids=lambda e: e.name)
def test_a_yes_no_element_is_a_boolean_column_with_the_same_default(element):
    column = COLUMNS[element.name]
    assert isinstance(column.type, Boolean)
    assert column.default.arg is element.default


@pytest.mark.parametrize("element", [e for e in ELEMENTS if e.kind == REF], ids=lambda e: e.name)
def test_a_reference_element_is_an_optional_foreign_key(element):
    column = COLUMNS[element.name]
    assert isinstance(column.type, Integer) and column.foreign_keys
    assert column.nullable and element.default is None


@pytest.mark.parametrize("element", ELEMENTS, ids=lambda e: e.name)
def test_an_element_asked_for_whatever_the_ground_has_no_default_in_the_column_either(element):
    column = COLUMNS[element.name]
    if element.required:
        assert column.default is None and not column.nullable
    elif element.kind in (LINE, TEXT):
        assert column.default is None or column.default.arg == element.default == ""


def test_every_ground_an_element_may_name_is_allowed_by_the_check_constraint():
    (ground,) = [e for e in ELEMENTS if e.kind == CHOICE]
    assert set(ground.choices) <= set(OUTCOME_CODES)


def test_an_article_longer_than_its_column_is_refused_by_name():
    draft = ExemptionDraft(ground="WITHHELD_SECURITY", facts="事实", article="条" * 201)
    assert overlong_elements(draft) == ["具体条款（条、款、项）不能超过 200 个字"]
    assert overlong_elements(ExemptionDraft(ground="WITHHELD_SECURITY", facts="事实", article="条" * 200)) == []


def test_the_stored_values_are_the_elements_with_their_text_trimmed():
    draft = ExemptionDraft(ground="NOT_HELD", facts="  经检索没有  ", consultation_answered=True, replaces_id=3)
    stored = element_values(draft)
    assert set(stored) == {e.name for e in ELEMENTS}
    assert stored["facts"] == "经检索没有" and stored["whole_item"] is True and stored["consultation_id"] is None
