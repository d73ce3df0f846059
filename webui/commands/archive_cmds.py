"""`gongkai archive export|verify` (DESIGN §7): archival case files (案卷) as self-contained ZIPs.

Exit codes: 0 done / intact; 1 `verify` found differences; 2 bad input (unknown or unarchived case,
missing or corrupted stored file, unreadable ZIP). WeasyPrint is imported only when a PDF is rendered.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_DIFFERENT = 1
EXIT_INPUT = 2


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _agency(session, agency_code: str | None):
    from sqlalchemy import select

    from engine.persistence.models import Agency
    from engine.services.accounts import agency_by_code

    if agency_code is not None:
        return agency_by_code(session, agency_code)
    agencies = session.scalars(select(Agency).order_by(Agency.code).limit(2)).all()
    if not agencies:
        _fail("系统中还没有任何机关，请先用 gongkai agency add 添加")
    if len(agencies) > 1:
        _fail("系统中有多个机关，请用 --agency 指定机关代码")
    return agencies[0]


@click.group()
def archive() -> None:
    """归档案卷：导出（ZIP：案卷 PDF/A-3b、原件、清单、校验值）与校验。"""


@archive.command("export")
@click.argument("reg_no", required=False)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@click.option("--year", type=int, default=None, help="导出该年度的全部已归档案卷（按档号年度）")
@click.option("--agency", "agency_code", default=None, help="机关代码（系统中只有一个机关时可省略）")
@click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True,
              help="批量导出时并行的进程数（每个进程同一时间只处理一件）")
def export_command(reg_no: str | None, out_dir: Path, year: int | None, agency_code: str | None, jobs: int) -> None:
    """导出一件已归档案件的案卷（REG_NO 为登记编号），或用 --year 批量导出一个年度的全部案卷。"""
    if (reg_no is None) == (year is None):
        _fail("请给出一个登记编号，或用 --year 指定年度（二者选一）")
    from engine.errors import GongkaiError
    from engine.persistence.db import default_engine, session_factory

    engine = default_engine()
    session = session_factory(engine)()
    try:
        agency = _agency(session, agency_code)
        if reg_no is not None:
            from engine.services.archive_export import export_case
            from webui.archive_export.rendering import renderer_for_agency

            path = export_case(session, agency_id=agency.id, reg_no=reg_no, out_dir=out_dir,
                               renderer=renderer_for_agency(agency))
            click.echo(str(path))
            return
        _export_year(session, engine, agency, year, out_dir, jobs)
    except GongkaiError as error:
        _fail(error.message)
    finally:
        session.close()
        engine.dispose()


def _export_year(session, engine, agency, year: int, out_dir: Path, jobs: int) -> None:
    from engine.services.casefile_collect import archived_case_ids
    from webui.archive_export.bulk import export_cases

    ids = archived_case_ids(session, agency.id, year)
    session.close()
    if not ids:
        click.echo(f"{agency.name} {year} 年度没有已归档的案件", err=True)
        return
    failures = []
    written = 0
    with click.progressbar(length=len(ids), label=f"导出 {year} 年度案卷", file=sys.stderr) as bar:
        for result in export_cases(engine.url.render_as_string(hide_password=False), agency.id, ids, out_dir,
                                   jobs=jobs):
            bar.update(1)
            if result.error:
                failures.append(result)
            else:
                written += 1
    click.echo(f"已导出 {written} 件案卷到 {out_dir}")
    if failures:
        for failure in failures:
            click.echo(f"错误：{failure.error}", err=True)
        _fail(f"{len(failures)} 件案卷未能导出（见上），其余已导出")


@archive.command("verify")
@click.argument("zip_file", type=click.Path(dir_okay=False, path_type=Path))
def verify_command(zip_file: Path) -> None:
    """校验案卷包：逐一核对 SHA256SUMS、manifest.json 和案卷 PDF 内嵌的清单；完好退出 0，有差异退出 1。"""
    import zipfile

    from webui.archive_export.verify import verify_case_zip

    if not zip_file.is_file():
        _fail(f"文件不存在：{zip_file}")
    if not zipfile.is_zipfile(zip_file):
        _fail(f"{zip_file.name} 不是 ZIP 文件，无法校验")
    problems = verify_case_zip(zip_file)
    if problems:
        click.echo(f"案卷包 {zip_file.name} 校验未通过，发现 {len(problems)} 处差异：")
        for n, problem in enumerate(problems, start=1):
            click.echo(f"  {n}. {problem}")
        sys.exit(EXIT_DIFFERENT)
    click.echo(f"案卷包 {zip_file.name} 完好：全部文件的 SHA-256 与 SHA256SUMS、manifest.json 一致，"
               "案卷 PDF 内嵌的清单与包内清单一致")
