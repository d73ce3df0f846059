"""`gongkai worker` and `gongkai scheduler` (DESIGN §7): the processes that run background jobs.

With `GONGKAI_REDIS_URL`: `worker` is an RQ worker (any number, on any machine) and `scheduler` the
cluster's housekeeping (run one; a second one waits as a standby). Without Redis, `worker` runs the
embedded runner in the foreground (the table is the queue) — `gongkai serve` starts one by itself.
"""

from __future__ import annotations

import sys

import click


@click.command("worker")
@click.option("--burst", is_flag=True, help="处理完队列中现有的任务后退出（仅 Redis 模式）")
def worker(burst: bool) -> None:
    """运行后台任务进程（案卷导出、期限重算等）；配置了 GONGKAI_REDIS_URL 时从 Redis 队列取任务，可在多台机器上运行任意多个。"""
    from engine.config import load_settings
    from webui.background.runner import lower_priority

    try:
        settings = load_settings()
    except ValueError as exc:  # a setting that cannot be read (GONGKAI_WORKER_NICE out of range, say)
        click.echo(f"错误：{exc}", err=True)
        sys.exit(2)
    niceness = lower_priority(settings.worker_nice)  # background work yields the CPU to the web workers
    if settings.worker_nice > 0:
        click.echo(f"后台任务进程的 CPU 优先级低于网页进程（nice {niceness}，GONGKAI_WORKER_NICE）", err=True)
    if settings.redis_url:
        from webui import background
        from webui.background.queue import run_worker

        background.configure()
        click.echo("后台任务进程已启动（Redis 队列）", err=True)
        run_worker(burst=burst)
        return
    from webui.background.runner import run_embedded

    click.echo("未设置 GONGKAI_REDIS_URL：后台任务进程直接从数据库取任务（单机模式）", err=True)
    run_embedded()


@click.command("scheduler")
def scheduler() -> None:
    """运行调度进程（整个集群只需一个）：把中断的任务重新排队、补发未进入 Redis 的任务、按期创建定时任务。"""
    from engine.config import load_settings

    if not load_settings().redis_url:
        click.echo("错误：未设置 GONGKAI_REDIS_URL。单机模式下无需调度进程：gongkai serve 和 gongkai worker "
                   "会自行完成这些工作", err=True)
        sys.exit(2)
    from webui.background.runner import run_scheduler

    click.echo("调度进程已启动", err=True)
    run_scheduler()
