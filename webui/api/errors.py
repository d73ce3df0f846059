"""Every refusal as JSON `{"error", "message", "details"}` with its HTTP status; never an HTML page, never a
500 for bad input."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from engine.errors import GongkaiError
from engine.rules.calendar import OutsideCalendarError
from engine.rules.clocks import ClockError
from webui.refusals import RETRY_AFTER_SECONDS, database_unavailable, status_for

log = logging.getLogger("gongkai.api")


HTTP_CODES = {
    400: ("invalid", "请求无效"),
    401: ("unauthorized", "缺少或无效的 API 令牌"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "接口或资源不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    409: ("conflict", "与其他操作冲突，请重试"),
    413: ("too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后重试"),
}

# Pydantic's error types in words an integrator reads in the message (details keep pydantic's own).
_PYDANTIC_WORDS = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_too_long": "过长",
    "string_too_short": "不能为空或过短",
    "string_pattern_mismatch": "含有不允许的字符或格式不符",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值无效",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_short": "至少要有一项",
    "too_long": "项数过多",
    "list_type": "应为数组",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "date_type": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期 YYYY-MM-DD",
    "value_error": "无效",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "dict_type": "应为对象",
}


class ApiError(Exception):
    """A refusal decided by the API layer itself (authentication, rate limit, body format)."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None, details=None,
                 headers: dict | None = None):
        default_code, default_message = HTTP_CODES.get(status, ("error", "请求无效"))
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.details = details
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details=None, headers: dict | None = None):
    response = jsonify({"error": code, "message": message, "details": details})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_message(error: ValidationError) -> tuple[str, list[dict]]:
    details = []
    parts = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(p) for p in problem["loc"]) or "请求体"
        details.append({"field": where, "type": problem["type"], "message": problem["msg"]})
        words = _PYDANTIC_WORDS.get(problem["type"], "无效")
        if problem["type"] == "value_error":
            words = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{where}：{words}")
    return "请求数据无效：" + "；".join(parts[:10]), details


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def api_refusal(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @bp.errorhandler(GongkaiError)
    def engine_refusal(error: GongkaiError):
        status = status_for(error)
        return error_response(status, error.code, error.message, error.details)

    @bp.errorhandler(ValidationError)
    def invalid_input(error: ValidationError):
        message, details = validation_message(error)
        return error_response(400, "invalid", message, details)

    @bp.errorhandler(OutsideCalendarError)
    @bp.errorhandler(ClockError)
    def outside_calendar(error: ValueError):
        return error_response(400, "invalid", str(error))

    @bp.errorhandler(IntegrityError)
    @bp.errorhandler(OperationalError)
    def concurrent_write(error: DBAPIError):
        if database_unavailable(error):
            log.error("API database unavailable on %s %s: %s", request.method, request.path, error.orig)
            return error_response(503, "unavailable", "数据库暂时无法连接，请稍后重试", None,
                                  {"Retry-After": str(RETRY_AFTER_SECONDS)})
        # Lock timeouts, deadlocks, serialization failures and a lost insert race: the transaction was
        # rolled back as a whole, so the client may simply retry.
        log.warning("API write conflict on %s %s: %s", request.method, request.path, error.orig)
        return error_response(409, "conflict", "与其他同时进行的操作冲突，本次操作未保存，请重试")

    def http_error(error: HTTPException):
        status = error.code or 500
        code, message = HTTP_CODES.get(status, ("error", error.name))
        headers = {}
        if status == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return error_response(status, code, message, None, headers)

    # By status code too: Flask prefers an app's handler for a code over a blueprint's handler for a class.
    bp.register_error_handler(HTTPException, http_error)
    for status in (*HTTP_CODES, 500):
        bp.register_error_handler(status, http_error)

    @bp.errorhandler(Exception)
    def unexpected(error: Exception):
        current_app.logger.exception("API internal error on %s %s", request.method, request.path)
        return error_response(500, "internal", "系统内部错误，请联系管理员")
