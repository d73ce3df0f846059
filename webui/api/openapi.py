"""The OpenAPI 3.1 document, assembled from the operations the views declare and the pydantic models that
validate their requests (schemas.py) — the single source of the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webui.api.schemas import ErrorOut, Output

REF = "#/components/schemas/{model}"

ERROR_DESCRIPTIONS = {
    400: "输入无效（字段、日期、取值、长度、编号格式）",
    401: "缺少或无效的 API 令牌",
    403: "令牌所属用户的角色无权执行",
    404: "不存在（其他机关的申请也视为不存在）",
    409: "当前阶段不能执行该操作，或申请已被他人修改（版本号过期）",
    413: "请求体过大",
    415: "请求体须为 JSON",
    422: "依法不能执行（引擎的规则拒绝，附原因）",
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


OPERATIONS: list[Operation] = []


def declare(op: Operation) -> Operation:
    OPERATIONS.append(op)
    return op


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {ErrorOut.__name__: ErrorOut}
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


def _operation(op: Operation) -> dict:
    doc: dict = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        doc["description"] = op.description
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}} for name in op.path_params]
    if op.query is not None:
        params += _query_parameters(op.query)
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}}}
    ok: dict = {"description": "成功"}
    if op.ok_media == "application/json" and op.ok_model is not None:
        ok["content"] = {"application/json": {"schema": {"$ref": REF.format(model=op.ok_model.__name__)}}}
    elif op.ok_media != "application/json":
        ok["content"] = {op.ok_media: {"schema": {"type": "string"}}}
    if op.ok_headers:
        ok["headers"] = op.ok_headers
    responses: dict = {str(op.ok_status): ok}
    error_ref = {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}}
    for status in op.errors:
        if op.public and status in (401, 403):
            continue
        responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status], "content": error_ref}
    doc["responses"] = responses
    doc["security"] = [] if op.public else [{"bearerAuth": []}]
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
                " `Authorization: Bearer <令牌>`（令牌属于某个用户，具有该用户的角色和机关）。"
                "错误一律为 `{\"error\": 代码, \"message\": 中文说明, \"details\": …}`。"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "gongkai token create --user NAME 生成的令牌"}},
        },
    }
