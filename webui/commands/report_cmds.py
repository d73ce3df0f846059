"""`gongkai report annual|publish` (DESIGN §7): the annual report (条例49–50, 国办公开办函〔2021〕30号).

`--format json` prints tables 三 and 四 (the contract); `--format pdf` writes the whole report, `--format xlsx`
tables 二、三、四. An incomplete report (a part not entered, table 三 unreconciled) is written only with `--draft`.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

EXIT_UNRECONCILED = 1
EXIT_INPUT = 2


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def shanghai_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _agency_or_fail(session, code: str | None):
    from engine.errors import NotFound
    from engine.services.accounts import agency_by_code

    if code is None:
        # A deployment of one agency: that agency (its code is reported); several: all of them summed.
        from sqlalchemy import select

        from engine.persistence.models import Agency

        only = session.scalars(select(Agency).limit(2)).all()
        return only[0] if len(only) == 1 else None
    try:
        return agency_by_code(session, code)
    except NotFound as exc:
        _fail(exc.message)


@click.group()
def report() -> None:
    """年度报告：全文（PDF）、表二至表四（Excel）、表三表四数据（JSON）；发布并锁定年度数据。"""


@report.command("annual")
@click.option("--year", type=int, required=True, help="报告年度，例如 2025")
@click.option("--agency", "agency_code", default=None, help="机关代码；省略时：只有一个机关即为该机关，多个机关则合计全部机关（仅 json）")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx", "pdf"]), default="json", show_default=True,
              help="json：表三、表四数据；pdf：年度报告全文；xlsx：表二、表三、表四")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="xlsx/pdf 输出文件")
@click.option("--draft", is_flag=True, help="报告尚未填写完整或勾稽关系不成立时仍导出，并标注“草稿”")
def annual(year: int, agency_code: str | None, fmt: str, out: Path | None, draft: bool) -> None:
    """输出年度报告（json 输出到标准输出；xlsx/pdf 写入 --out 文件）。"""
    from engine.persistence.db import transaction
    from engine.services.reports import annual_report, full_report

    if fmt != "json" and out is None:
        _fail(f"--format {fmt} 需要用 --out 指定输出文件")
    with transaction() as session:
        agency = _agency_or_fail(session, agency_code)
        if fmt == "json":
            result = annual_report(session, year, agency)
        elif agency is None:
            _fail(f"--format {fmt} 需要用 --agency 指定机关（年度报告按机关编制，多个机关没有合并的报告）")
        else:
            full = full_report(session, year, agency)
            result = full.tables
    for failure in result.failures:
        cells = "、".join(f"{row}/{column}" for row, column in failure.cells)
        click.echo(f"勾稽关系不成立：{failure}（单元格 {cells}）", err=True)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        sys.exit(0 if result.reconciles else EXIT_UNRECONCILED)
    from webui.letters_adapter import assets_for
    from webui.reports.exports import render_pdf, tables_draft, write_xlsx

    missing = full.content.missing_description() if fmt == "pdf" else full.content.blank_description()
    if missing:
        click.echo(f"年度报告尚未填写完整：{missing}", err=True)
    incomplete = not full.complete if fmt == "pdf" else tables_draft(full)
    if incomplete and not draft:
        _fail("年度报告尚未填写完整或勾稽关系不成立，未生成正式文件（可加 --draft 导出标注“草稿”的文件）",
              EXIT_UNRECONCILED)
    if fmt == "xlsx":
        write_xlsx(full, out, draft=draft)
    else:
        out.write_bytes(render_pdf(full, draft=draft, assets=assets_for(agency)))
    click.echo(f"已生成{'草稿' if draft else ''}文件：{out}")


@report.command("publish")
@click.option("--year", type=int, required=True)
@click.option("--agency", "agency_code", required=True, help="机关代码")
@click.option("--user", "username", required=True, help="发布人用户名（系统管理员或公开工作机构负责人）")
def publish(year: int, agency_code: str, username: str) -> None:
    """发布年度报告：冻结表三、表四数据并锁定该年度（之后不能再更改该年度的收到、办结日期）。"""
    from sqlalchemy import select

    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.persistence.models import User
    from engine.services.reports import publish_report

    try:
        with transaction() as session:
            agency = _agency_or_fail(session, agency_code)
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                _fail(f"没有用户名为「{username}」的用户")
            publish_report(session, agency, year, user, shanghai_today())
    except GongkaiError as exc:
        _fail(exc.message, EXIT_UNRECONCILED if exc.code == "rule" else EXIT_INPUT)
    click.echo(f"已发布{agency.name}{year}年度报告，{year}年度数据已锁定")
