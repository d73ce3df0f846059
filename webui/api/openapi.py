"""The OpenAPI 3.1 document, assembled from the operations the views declare and the pydantic models that
validate their requests (schemas.py) — the single source of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webui.api.schemas import Output, ProblemOut

REF = "#/components/schemas/{model}"

ERROR_DESCRIPTIONS = {
    400: "输入无效（字段、日期、取值、长度、编号格式）",
    401: "缺少或无效的 API 令牌",
    403: "令牌所属用户的角色无权执行（forbidden），或令牌的范围不允许（scope）",
    404: "不存在（其他机关的申请也视为不存在）",
    409: "当前阶段不能执行该操作，或申请已被他人修改（版本号过期）",
    405: "该路径不支持这种请求方式（响应头 Allow 列出支持的方式）",
    413: "请求体过大",
    415: "请求体须为 JSON",
    422: "依法不能执行（引擎的规则拒绝，附原因），或 Idempotency-Key 已用于内容不同的请求",
    429: "请求过于频繁",
}


@dataclass(frozen=True)
class Operation:
    """One documented operation: method, path (OpenAPI style), models and the refusals it can answer with."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_params: tuple[str, ...] = ()
    ok_status: int = 200
    ok_model: type[Output] | None = None
    ok_media: str = "application/json"
    ok_headers: dict = field(default_factory=dict)
    errors: tuple[int, ...] = (400, 401, 403, 404, 409, 413, 415, 422, 429)
    public: bool = False
    scopes: tuple[str, ...] = ()  # token scopes that may call it; default: GET full+read, anything else full
    idempotent: bool = False      # takes an Idempotency-Key header

    def allowed_scopes(self) -> tuple[str, ...]:
        if self.public:
            return ()
        return self.scopes or (("full", "read") if self.method == "GET" else ("full",))


OPERATIONS: list[Operation] = []


def declare(op: Operation) -> Operation:
    OPERATIONS.append(op)
    return op


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {ProblemOut.__name__: ProblemOut}
    for op in OPERATIONS:
        for model in (op.body, op.ok_model):
            if model is not None:
                seen.setdefault(model.__name__, model)
    return list(seen.values())


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


PROBLEM_MEDIA = "application/problem+json"
REQUEST_ID = {"description": "请求标识：请求带了合法的 X-Request-Id（1 至 100 个字母、数字或 ._:-）时原样返回，否则由服务器生成",
              "schema": {"type": "string"}}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "当前时间窗口内允许的请求数（每个令牌；进度查询按来源地址）",
                        "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "当前时间窗口内剩余的请求数", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "距当前时间窗口结束的秒数", "schema": {"type": "integer"}},
}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "幂等键（1 至 200 个可打印 ASCII 字符，建议用 UUID）：24 小时内同一令牌以同一键、同一请求体重发时，返回第一次的"
                   "结果（状态码和响应体，响应头 Idempotent-Replayed: true），不会再执行一次；同一键、不同请求体返回 422"
                   "（idempotency_mismatch）；同一键的请求同时到达时只执行一次，另一个等待后得到同一结果。",
    "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"},
}


def _operation(op: Operation) -> dict:
    doc: dict = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    scopes = op.allowed_scopes()
    description = op.description
    if not op.public:
        description += f"\n\n令牌范围（scope）：{'、'.join(scopes)}。"
    if description:
        doc["description"] = description.strip()
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}} for name in op.path_params]
    if op.query is not None:
        params += _query_parameters(op.query)
    if op.idempotent:
        params.append(IDEMPOTENCY_PARAMETER)
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}}}
    common_headers = {"X-Request-Id": REQUEST_ID, **RATE_LIMIT_HEADERS}
    ok: dict = {"description": "成功", "headers": {**common_headers, **op.ok_headers}}
    if op.idempotent:
        ok["headers"]["Idempotent-Replayed"] = {"description": "true：这是同一 Idempotency-Key 第一次请求的结果（未再执行）",
                                                "schema": {"type": "string", "enum": ["true"]}}
    if op.ok_media == "application/json" and op.ok_model is not None:
        ok["content"] = {"application/json": {"schema": {"$ref": REF.format(model=op.ok_model.__name__)}}}
    elif op.ok_media != "application/json":
        ok["content"] = {op.ok_media: {"schema": {"type": "string", "format": "binary"}}}
    responses: dict = {str(op.ok_status): ok}
    problem = {PROBLEM_MEDIA: {"schema": {"$ref": REF.format(model="ProblemOut")}}}
    for status in (*op.errors, 405):
        if op.public and status in (401, 403):
            continue
        headers = dict(common_headers)
        if status == 405:
            headers["Allow"] = {"description": "该路径支持的请求方式", "schema": {"type": "string"}}
        if status in (429, 503):
            headers["Retry-After"] = {"description": "多少秒后可以重试", "schema": {"type": "integer"}}
        responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status], "headers": headers, "content": problem}
    doc["responses"] = responses
    doc["security"] = [] if op.public else [{"bearerAuth": list(scopes)}]
    doc["x-token-scopes"] = list(scopes)
    return doc


@lru_cache(maxsize=1)
def document() -> dict:
    """The OpenAPI 3.1 document of every declared operation (built once per process)."""
    _, defs = models_json_schema([(m, "validation") for m in _models()], ref_template=REF)
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "公开（Gongkai）政府信息依申请公开办理接口",
            "version": "1",
            "description": (
                "政务服务网、机关网站表单和其他系统使用的 JSON 接口。除申请人进度查询外，每个请求都须带"
                " `Authorization: Bearer <令牌>`（令牌属于某个用户，具有该用户的角色和机关；其范围 scope 见安全方案）。\n\n"
                "错误一律为 RFC 9457 的 `application/problem+json`：type（问题类型 URI，以 /problems/<code> 结尾）、"
                "title、status、detail（中文说明）、code（枚举）、instance 和 request_id（同响应头 X-Request-Id），"
                "输入和规则错误另有 errors：[{pointer, detail}]，一次列出全部问题。\n\n"
                "身份证件号码和电话默认遮蔽（如 110105********002X）；只有创建时带 --personal-data 的令牌返回完整号码，"
                "每次返回都作为 reveal_personal_data 事件记入该申请的审计记录（个人信息保护法）。\n\n"
                "响应中的 download_url 和 url 是相对于本接口基地址（servers 中的 /api/v1/）的相对路径。\n\n"
                "每个带令牌的请求按令牌限流，响应头 RateLimit-Limit、RateLimit-Remaining、RateLimit-Reset；超出时 429 并给 Retry-After。"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "gongkai token create --user NAME [--scope full|read|portal] [--personal-data] 生成的令牌。"
                               "范围：full＝令牌用户的角色允许的一切；read＝只能 GET；portal＝只能登记网络申请（POST /cases，"
                               "channel=online）和查询办理进度。每个操作的 security 列出可以调用它的范围，"
                               "范围不允许时返回 403（code=scope）。"}},
        },
    }
