"""Background work for the web application and the `gongkai worker`/`scheduler` commands.

The jobs themselves are rows managed by `engine.services.jobs` (the outbox, claiming, retries); this package
supplies the job bodies that need the letters or the web layer (`kinds`), the RQ queue on Redis when
`GONGKAI_REDIS_URL` is set (`queue`), and the loops that run them (`runner`). Nothing here imports Flask.
"""

from __future__ import annotations

import os

from engine.config import load_settings
from engine.services import jobs


def prefix() -> str:
    """`GONGKAI_REDIS_PREFIX` (default `gongkai`): names the queue and every Redis key Gongkai writes."""
    return os.environ.get("GONGKAI_REDIS_PREFIX") or load_settings().extra.get("redis_prefix") or "gongkai"


def configure() -> bool:
    """Register the job kinds and choose the dispatcher for this process; True when jobs go to Redis."""
    from webui.background import kinds  # noqa: F401  (registers the job bodies)

    if load_settings().redis_url:
        from webui.background.queue import dispatch_to_rq

        jobs.set_dispatcher(dispatch_to_rq)
        return True
    jobs.set_dispatcher(None)
    return False
