"""Contact details an applicant gives (条例29(一)): refused when they cannot be used to reach anyone."""

from __future__ import annotations

import re

import pytest

from engine.rules.contact import (
    PHONE_PATTERN,
    POSTAL_CODE_PATTERN,
    email_problem,
    id_number_problem,
    phone_problem,
    postal_code_problem,
)
from engine.rules.vocabulary import delivery_method_for


@pytest.mark.parametrize("phone", ["13800138000", "138-0013-8000", "+86 138 0013 8000", "010-88886666",
                                   "0571-87654321转123", "（0571）87654321", "87654321", "１３８００１３８０００", ""])
def test_mobile_and_landline_numbers_are_accepted(phone):
    assert phone_problem(phone) is None


@pytest.mark.parametrize("phone", ["abc", "1", "0571-1", "1380013800", "138001380001", "电话号码", "13800138000abc"])
def test_a_phone_that_reaches_nobody_is_refused_with_the_expected_form(phone):
    assert "11 位手机号码" in phone_problem(phone)


def test_the_browser_pattern_refuses_letters_like_the_server():
    assert re.fullmatch(PHONE_PATTERN, "abc") is None and re.fullmatch(PHONE_PATTERN, "0571-87654321转123")
    assert re.fullmatch(POSTAL_CODE_PATTERN, "310000") and re.fullmatch(POSTAL_CODE_PATTERN, "31000") is None


@pytest.mark.parametrize(("email", "ok"), [("zhangsan@example.com", True), ("li.si+gk@mail.gov.cn", True),
                                           ("", True), ("not-an-email", False), ("a@b", False),
                                           ("a b@example.com", False), ("@example.com", False)])
def test_an_email_address_needs_a_name_an_at_and_a_domain(email, ok):
    assert (email_problem(email) is None) is ok


@pytest.mark.parametrize(("code", "ok"), [("310000", True), ("", True), ("３１００００", True), ("31000", False),
                                          ("3100001", False), ("abcdef", False)])
def test_a_postal_code_is_six_digits(code, ok):
    assert (postal_code_problem(code) is None) is ok


def test_an_identity_card_number_needs_its_gb11643_check_digit():
    assert id_number_problem("居民身份证", "11010519491231002X") is None
    assert "校验位" in id_number_problem("居民身份证", "110105194912310021")
    assert "18 位" in id_number_problem("居民身份证", "abc")
    assert id_number_problem("护照", "E12345678") is None
    assert "统一社会信用代码" in id_number_problem("统一社会信用代码", "not-a-code")


@pytest.mark.parametrize(("asked", "method"), [("邮寄", "POST"), ("电子邮件", "EMAIL"), ("当面领取", "IN_PERSON"),
                                               ("网络平台", "ONLINE"), ("", None), ("其他方式", None)])
def test_the_delivery_method_follows_what_the_applicant_asked_for(asked, method):
    assert delivery_method_for(asked) == method
