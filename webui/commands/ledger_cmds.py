"""`gongkai ledger import FILE [--agency CODE]` (DESIGN §7): a historical case ledger (台账), all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_REJECTED = 2


def _fail(message: str, code: int = EXIT_REJECTED) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


@click.group()
def ledger() -> None:
    """历史办件台账。"""


@ledger.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", "agency_code", default=None, help="机关代码（系统中只有一个机关时可省略）")
def import_command(file: Path, agency_code: str | None) -> None:
    """导入台账（.xlsx 或 UTF-8 .csv）：先检查全部行，有任何错误则逐行报告且不写入任何数据。"""
    from sqlalchemy import select

    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.persistence.models import Agency
    from engine.services.accounts import agency_by_code
    from engine.services.ledger import LedgerRejected, import_ledger, read_ledger
    from webui.commands.report_cmds import shanghai_today

    try:
        ledger_file = read_ledger(file)
    except LedgerRejected as exc:
        _fail(exc.message)
    click.echo(f"已读取「{file.name}」：{len(ledger_file.rows)} 行数据", err=True)
    try:
        with transaction() as session:
            if agency_code is None:
                agencies = session.scalars(select(Agency).order_by(Agency.code).limit(2)).all()
                if not agencies:
                    _fail("系统中还没有任何机关，请先用 gongkai agency add 添加")
                if len(agencies) > 1:
                    _fail("系统中有多个机关，请用 --agency 指定导入到哪个机关")
                agency = agencies[0]
            else:
                agency = agency_by_code(session, agency_code)
            with click.progressbar(length=2 * len(ledger_file.rows), label="导入台账", file=sys.stderr) as bar:
                summary = import_ledger(session, agency, ledger_file, actor=None, today=shanghai_today(),
                                        progress=bar.update)
    except LedgerRejected as exc:
        click.echo("", err=True)
        _fail(exc.message)
    except GongkaiError as exc:
        _fail(exc.message)
    click.echo(f"{summary}，导入到「{agency.name}」")
