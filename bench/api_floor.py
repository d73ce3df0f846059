"""The API floor of the registration benchmark (issue 14): the product's API around the reference app's work.

`POST /api/v1/cases` of Gongkai's own app — the token's authentication, the per-token rate limit, the request's
transaction and the body's validation (`RegisterIn`, `check_registration`), as every registration pays them — whose
view then does only what `bench/reference_app.py` does: the next gap-free number under the counter row's lock and
one insert, in the request's own transaction. Measured beside the reference app and the real registration in the
same run (`bench/bench_scale.py`), it splits the registration's cost in two: what any authenticated API write costs
here, and what the registration itself adds (the case, its clock, the audit chain, the receipt's letter and job).

A benchmark only: the view replaces the registration's in this app alone, never in the product.
"""

from __future__ import annotations

from flask import Flask, request

from bench.reference_app import INSERT_CASE, NEXT_NUMBER, ensure_tables
from webui.api import context, rules
from webui.api import schemas as s
from webui.api.cases import respond
from webui.app import create_app as gongkai_app
from webui.db import get_engine


def create_app(settings: dict | None = None) -> Flask:
    app = gongkai_app(settings)
    with app.app_context():
        ensure_tables(get_engine())

    def floor_register():
        body = context.json_body(s.RegisterIn)
        rules.check_registration(body, context.today())
        session = context.session()
        n = session.execute(NEXT_NUMBER).scalar_one()
        session.execute(INSERT_CASE, {"n": n, "body": request.get_data(as_text=True)})  # as the reference stores it
        return respond({"n": n}, 201)

    app.view_functions["api.register_request"] = floor_register
    return app
