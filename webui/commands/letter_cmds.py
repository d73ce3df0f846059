"""`gongkai letter samples` and `gongkai letter render` (DESIGN §7): official letters from the command line.

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


@letter.command("render")
@click.argument("letter_type")
@click.option("--data", "data_file", required=True, help="文书数据（JSON 文件，日期用 YYYY-MM-DD）")
@click.option("--out", "out_file", required=True, help="输出 PDF 文件")
@click.option("--draft", is_flag=True, help="按样稿（未签发）渲染")
@click.option("--seal", type=click.Path(dir_okay=False), default=None, help="印章图片（PNG）")
def render(letter_type: str, data_file: str, out_file: str, draft: bool, seal: str | None) -> None:
    """按 JSON 数据渲染一份文书为 PDF；数据缺项或有误时指明字段并以状态码 2 退出。"""
    from letters import LETTER_TYPES, LetterDataError, LetterRenderError, render_letter

    if letter_type not in LETTER_TYPES:
        _fail(f"未知的文书类型：{letter_type}（可用：{'、'.join(LETTER_TYPES)}）")
    try:
        text = Path(data_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"数据文件不存在：{data_file}")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"无法读取数据文件 {data_file}：{error}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"数据文件不是有效的 JSON：第{error.lineno}行第{error.colno}列")
    try:
        rendered = render_letter(letter_type, data, draft=draft, assets=_assets(seal))
    except LetterDataError as error:
        _fail(str(error))
    except LetterRenderError as error:
        _fail(f"文书渲染失败：{error}")
    Path(out_file).write_bytes(rendered.pdf)
    click.echo(f"{out_file}  {rendered.page_count}页  sha256={rendered.sha256}  {rendered.template_version}")
