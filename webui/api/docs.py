"""The OpenAPI document, a served documentation page built from it (no CDN), and JSON 404/405 for the rest."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from webui.api import bp
from webui.api.openapi import document

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())


@bp.get("/docs")
def docs():
    doc = document()
    operations = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            operations.append({"method": method.upper(), "path": "/api/v1" + path, **op})
    response = current_app.make_response(render_template(
        "api/docs.html", doc=doc, operations=operations, schemas=doc["components"]["schemas"]))
    return response


def _schema_name(ref: dict | None) -> str:
    if not ref:
        return ""
    return ref.get("$ref", "").rsplit("/", 1)[-1]


@bp.app_template_filter("api_schema_name")
def api_schema_name(content: dict | None) -> str:
    if not content:
        return ""
    media = next(iter(content.values()))
    return _schema_name(media.get("schema"))


@bp.route("/", defaults={"rest": ""}, methods=METHODS)
@bp.route("/<api_any:rest>", methods=METHODS)
def not_found(rest: str):
    """Anything under /api/v1 that no view serves: 405 when the path exists for other methods, else 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except Exception:  # noqa: BLE001 - any routing refusal means "not this method"
            continue
        if endpoint != "api.not_found":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()
