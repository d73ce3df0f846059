"""Every refusal as RFC 9457 `application/problem+json`: `type` (a URI naming the problem), `title`, `status`,
`detail` (Chinese, for people), an enumerated `code`, `instance` and `request_id` (the `X-Request-Id` header,
echoed or generated), and for input and rule errors `errors: [{pointer, detail}]` with every problem of the
request at once (JSON pointers into the request body or `/query/NAME` for query parameters). Never an HTML page,
never a 500 for bad input."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Blueprint, current_app, g, json, request
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from engine.errors import GongkaiError
from engine.rules.calendar import OutsideCalendarError
from engine.rules.clocks import ClockError
from webui.refusals import RETRY_AFTER_SECONDS, database_unavailable, status_for

log = logging.getLogger("gongkai.api")

PROBLEM_MEDIA = "application/problem+json"
PROBLEM_BASE = "https://gongkai.example/problems/"
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

# The enumerated problem codes and their titles (the `type` URI is PROBLEM_BASE + code).
PROBLEMS = {
    "invalid": "请求数据无效",
    "unauthorized": "缺少或无效的 API 令牌",
    "forbidden": "无权执行",
    "scope": "令牌的权限范围不允许该操作",
    "not_found": "不存在",
    "method_not_allowed": "不支持该请求方式",
    "workflow": "当前阶段不能执行该操作",
    "stale": "申请已被他人修改（版本号过期）",
    "period_locked": "会改变已公布的年度报告",
    "integrity": "存储的文件与记录的哈希不符",
    "conflict": "与其他操作冲突，请重试",
    "idempotency_mismatch": "幂等键已用于内容不同的请求",
    "idempotency_in_progress": "同一幂等键的请求正在处理",
    "rule": "依法不能执行",
    "too_large": "请求体过大",
    "unsupported_media_type": "请求体须为 JSON",
    "rate_limited": "请求过于频繁",
    "unavailable": "服务暂时不可用",
    "internal": "系统内部错误",
    "error": "请求无效",
}

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

# Pydantic's error types in words an integrator reads (each problem's `detail`).
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
    """A refusal decided by the API layer itself (authentication, scope, rate limit, body format, rules)."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None, details=None,
                 headers: dict | None = None, errors: list[dict] | None = None):
        default_code, default_message = HTTP_CODES.get(status, ("error", "请求无效"))
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.details = details
        self.headers = headers or {}
        self.errors = errors


def request_id() -> str:
    """The caller's `X-Request-Id` when it is a sane token, else one made up for this request."""
    if "request_id" not in g:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.request_id


def pointer(*parts) -> str:
    """A JSON pointer (RFC 6901) to a place in the request."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def problem_response(status: int, code: str, detail: str, *, errors: list[dict] | None = None, details=None,
                     headers: dict | None = None):
    body: dict = {"type": PROBLEM_BASE + code, "title": PROBLEMS.get(code, PROBLEMS["error"]), "status": status,
                  "detail": detail, "code": code, "instance": f"urn:gongkai:request:{request_id()}",
                  "request_id": request_id()}
    if errors:
        body["errors"] = errors
    if isinstance(details, dict):
        # The engine's extra facts (e.g. the current version of a stale case) as extension members.
        body.update({k: v for k, v in details.items() if k not in body and k != "field"})
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def validation_problems(error: ValidationError, root: tuple = ()) -> tuple[str, list[dict]]:
    """Every problem pydantic found, each with its pointer; the summary names the first few."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        words = _PYDANTIC_WORDS.get(problem["type"], "无效")
        if problem["type"] == "value_error":
            words = problem["msg"].removeprefix("Value error, ")
        problems.append({"pointer": pointer(*root, *problem["loc"]), "detail": words, "type": problem["type"]})
    parts = [f"{p['pointer'] or '请求体'}：{p['detail']}" for p in problems]
    return "请求数据无效：" + "；".join(parts[:10]), problems


# Fields the engine names in its refusals (`details["field"]`), as places in the API's request bodies.
_ENGINE_FIELDS = {
    "applicant_kind": "/applicant/kind", "name": "/applicant/name", "id_type": "/applicant/id_type",
    "id_number": "/applicant/id_number", "phone": "/applicant/phone", "email": "/applicant/email",
    "address": "/applicant/address", "postal_code": "/applicant/postal_code",
    "contact_person": "/applicant/contact_person", "item_description": "/items", "item_topic": "/items",
}


def engine_problems(error: GongkaiError) -> list[dict] | None:
    """The engine's refusal as pointer problems: a named field, or each listed problem (e.g. missing elements)."""
    details = error.details
    if isinstance(details, dict) and isinstance(details.get("field"), str):
        field = details["field"]
        return [{"pointer": _ENGINE_FIELDS.get(field, pointer(field)), "detail": error.message}]
    if isinstance(details, list) and details and all(isinstance(d, str) for d in details):
        return [{"pointer": "", "detail": d} for d in details]
    return None


def register(bp: Blueprint) -> None:
    @bp.after_request
    def _echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response

    @bp.errorhandler(ApiError)
    def api_refusal(error: ApiError):
        return problem_response(error.status, error.code, error.message, errors=error.errors, details=error.details,
                                headers=error.headers)

    @bp.errorhandler(GongkaiError)
    def engine_refusal(error: GongkaiError):
        return problem_response(status_for(error), error.code, error.message, errors=engine_problems(error),
                                details=error.details)

    @bp.errorhandler(ValidationError)
    def invalid_input(error: ValidationError):
        message, problems = validation_problems(error)
        return problem_response(400, "invalid", message, errors=problems)

    @bp.errorhandler(OutsideCalendarError)
    @bp.errorhandler(ClockError)
    def outside_calendar(error: ValueError):
        return problem_response(400, "invalid", str(error))

    @bp.errorhandler(IntegrityError)
    @bp.errorhandler(OperationalError)
    def concurrent_write(error: DBAPIError):
        if database_unavailable(error):
            log.error("API database unavailable on %s %s: %s", request.method, request.path, error.orig)
            return problem_response(503, "unavailable", "数据库暂时无法连接，请稍后重试",
                                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        # Lock timeouts, deadlocks, serialization failures and a lost insert race: the transaction was
        # rolled back as a whole, so the client may simply retry.
        log.warning("API write conflict on %s %s: %s", request.method, request.path, error.orig)
        return problem_response(409, "conflict", "与其他同时进行的操作冲突，本次操作未保存，请重试")

    # By status code too: Flask prefers an app's handler for a code over a blueprint's handler for a class.
    bp.register_error_handler(HTTPException, http_problem)
    for status in (*HTTP_CODES, 500):
        bp.register_error_handler(status, http_problem)

    @bp.errorhandler(Exception)
    def unexpected(error: Exception):
        current_app.logger.exception("API internal error on %s %s", request.method, request.path)
        return problem_response(500, "internal", "系统内部错误，请联系管理员")


def http_problem(error: HTTPException):
    """A routing or protocol refusal (404, 405 with `Allow`, 413, 429 …) as a problem."""
    status = error.code or 500
    code, message = HTTP_CODES.get(status, ("error", error.name))
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        message = f"请求过于频繁，请稍后再试（限额 {error.description}）" if error.description else message
    return problem_response(status, code, message, headers=headers)
