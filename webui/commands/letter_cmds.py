"""`gongkai letter samples`, `gongkai letter render` and `gongkai letter template show|set` (DESIGN §7): official
letters and an agency's own wording of them from the command line.

The letters package (WeasyPrint, fonts) is imported only when a letter command runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

EXIT_INPUT = 2  # bad or incomplete data, unknown type (DESIGN §7)


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(EXIT_INPUT)


def _assets(seal: str | None):
    from letters import AssetConfig, default_assets

    assets = default_assets()
    if seal is None:
        return assets
    seal_path = Path(seal)
    if not seal_path.is_file():
        _fail(f"印章图片不存在：{seal}")
    return AssetConfig(fonts=assets.fonts, seal_image=seal_path)


@click.group()
def letter() -> None:
    """办理文书：生成样例、按数据渲染 PDF（GB/T 9704，PDF/A-3b）。"""


@letter.command("samples")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="输出目录")
@click.option("--draft", is_flag=True, help="按样稿（未签发）渲染")
@click.option("--seal", type=click.Path(dir_okay=False), default=None, help="印章图片（PNG）")
def samples(out_dir: str, draft: bool, seal: str | None) -> None:
    """用内置样例数据渲染每一种文书（答复书按每类办理结果各一份），并在旁边保存所用数据（.json）。"""
    from letters import LetterDataError, LetterRenderError, render_letter, sample_data
    from letters.samples import letter_type_of

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    assets = _assets(seal)
    for name, data in sample_data().items():
        try:
            rendered = render_letter(letter_type_of(name), data, draft=draft, assets=assets)
        except (LetterDataError, LetterRenderError) as error:
            _fail(f"样例 {name}：{error}")
        (out / f"{name}.pdf").write_bytes(rendered.pdf)
        (out / f"{name}.json").write_text(
            json.dumps(rendered.data_snapshot, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(f"{name}.pdf  {rendered.page_count}页  {rendered.template_version}")


def _read_json(path: str, what: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{what}不存在：{path}")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"无法读取{what} {path}：{error}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"{what}不是有效的 JSON：第{error.lineno}行第{error.colno}列")


def _known_type(letter_type: str) -> None:
    from letters import LETTER_TYPES

    if letter_type not in LETTER_TYPES:
        _fail(f"未知的文书类型：{letter_type}（可用：{'、'.join(LETTER_TYPES)}）")


@letter.command("render")
@click.argument("letter_type")
@click.option("--data", "data_file", required=True, help="文书数据（JSON 文件，日期用 YYYY-MM-DD）")
@click.option("--out", "out_file", required=True, help="输出 PDF 文件")
@click.option("--draft", is_flag=True, help="按样稿（未签发）渲染")
@click.option("--seal", type=click.Path(dir_okay=False), default=None, help="印章图片（PNG）")
@click.option("--agency", "agency_code", default=None, help="按该机关启用的文书措辞渲染（机关代码）")
def render(letter_type: str, data_file: str, out_file: str, draft: bool, seal: str | None,
           agency_code: str | None) -> None:
    """按 JSON 数据渲染一份文书为 PDF；数据缺项或有误时指明字段并以状态码 2 退出。"""
    from letters import LetterDataError, LetterRenderError, render_letter

    _known_type(letter_type)
    data = _read_json(data_file, "数据文件")
    if agency_code is not None:
        if not isinstance(data, dict):
            _fail("字段 (数据) 应为对象（JSON object）")
        data = _with_agency_wording(agency_code, letter_type, data)
    try:
        rendered = render_letter(letter_type, data, draft=draft, assets=_assets(seal))
    except LetterDataError as error:
        _fail(str(error))
    except LetterRenderError as error:
        _fail(f"文书渲染失败：{error}")
    Path(out_file).write_bytes(rendered.pdf)
    click.echo(f"{out_file}  {rendered.page_count}页  sha256={rendered.sha256}  {rendered.template_version}")


def _with_agency_wording(agency_code: str, letter_type: str, data: dict) -> dict:
    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.letter_wording import with_active_wording

    try:
        with transaction() as session:
            return with_active_wording(session, agency_by_code(session, agency_code).id, letter_type, data)
    except GongkaiError as error:
        _fail(error.message)


@letter.group("template")
def template() -> None:
    """本机关的文书措辞（可编辑段落）：查看、保存并启用新版本。"""


@template.command("show")
@click.argument("letter_type")
@click.option("--agency", "agency_code", required=True, help="机关代码")
def template_show(letter_type: str, agency_code: str) -> None:
    """以 JSON 显示该机关正在使用的措辞：{"type","version","slots","placeholders"}（第0版为系统默认措辞）。"""
    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.letter_wording import active_wording
    from webui.letters_adapter import WORDING_CATALOGUE

    _known_type(letter_type)
    try:
        with transaction() as session:
            wording = active_wording(session, agency_by_code(session, agency_code), letter_type,
                                     catalogue=WORDING_CATALOGUE)
    except GongkaiError as error:
        _fail(error.message)
    click.echo(json.dumps(wording.as_json(), ensure_ascii=False, indent=2))


@template.command("set")
@click.argument("letter_type")
@click.option("--agency", "agency_code", required=True, help="机关代码")
@click.option("--file", "slots_file", required=True, help='措辞文件（JSON：{"slots": {"栏目": "文本"}}）')
def template_set(letter_type: str, agency_code: str, slots_file: str) -> None:
    """保存为新版本并立即启用（未列出的栏目沿用现行措辞）；措辞不合格时指明栏目并以状态码 2 退出。"""
    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.letter_wording import active_wording, save_wording
    from webui.letters_adapter import WORDING_CATALOGUE

    _known_type(letter_type)
    payload = _read_json(slots_file, "措辞文件")
    if not isinstance(payload, dict) or not isinstance(payload.get("slots"), dict):
        _fail('措辞文件格式不对：应为 {"slots": {"栏目": "文本", …}}')
    if payload.get("type", letter_type) != letter_type:
        _fail(f"措辞文件是{payload['type']}的措辞，不是{letter_type}的")
    try:
        with transaction() as session:
            agency = agency_by_code(session, agency_code)
            row = save_wording(session, agency, letter_type, payload["slots"], catalogue=WORDING_CATALOGUE,
                               actor=None, source=f"命令行：{Path(slots_file).name}")
            wording = active_wording(session, agency, letter_type, catalogue=WORDING_CATALOGUE)
    except GongkaiError as error:
        _fail(error.message)
    click.echo(json.dumps(wording.as_json(), ensure_ascii=False, indent=2))
    click.echo(f"已保存并启用第{row.version}版措辞", err=True)
