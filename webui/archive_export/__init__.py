"""案卷导出 pages (条例45 归档): export one case file or a whole year in the background, add 备考 notes.

`bp` is imported lazily (PEP 562): export worker processes import `webui.archive_export.bulk` and
`.rendering` without loading Flask and the views, which keeps each worker's memory down.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "bp":
        from webui.archive_export.views import bp

        return bp
    raise AttributeError(name)
