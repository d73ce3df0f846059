"""Links for every row of a long table, built once per request: werkzeug's `url_for` tries the rules of the map
one by one each time it is called, which was a fifth of the dashboard's time (about 350 links)."""

from __future__ import annotations

from flask import g, url_for

# Stand-ins for the integers that change from row to row: no route's fixed text contains such a run of digits.
_STAND_IN = 7_000_000_000_001


def row_url(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)`, from the link built for the same endpoint and other values once in this
    request, with stand-ins in place of the integers. An integer is written as its digits in the path and in the
    query string alike, so replacing the stand-ins gives what `url_for` gives."""
    numbers = [name for name, value in values.items() if isinstance(value, int) and not isinstance(value, bool)]
    key = (endpoint, tuple(values), tuple((name, value) for name, value in values.items() if name not in numbers))
    built = g.setdefault("_row_urls", {})
    template = built.get(key)
    if template is None:
        stand_ins = {name: _STAND_IN + n for n, name in enumerate(numbers)}
        template = built[key] = url_for(endpoint, **(values | stand_ins))
    for n, name in enumerate(numbers):
        template = template.replace(str(_STAND_IN + n), str(values[name]))
    return template
