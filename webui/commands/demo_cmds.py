"""`gongkai demo`: the demo agency, one user per role (passwords printed) and ~50 cases in every stage."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click


@click.command()
@click.option("--if-empty", is_flag=True, help="已有示例数据时什么也不做（make run 使用）")
def demo(if_empty: bool) -> None:
    """创建示例机关、各角色用户和覆盖各办理阶段、各办理结果的示例案件。"""
    from engine.persistence.db import transaction
    from engine.services.accounts import agency_by_code
    from engine.services.demo import DEMO_AGENCY, DEMO_PASSWORDS, create_demo, demo_exists
    from webui.letters_adapter import renderer_for

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with transaction() as session:
        if demo_exists(session):
            if if_empty:
                _print_users(DEMO_PASSWORDS, existing=True)
                return
            click.echo("错误：示例机关 DEMO 已存在", err=True)
            sys.exit(2)
        click.echo("正在生成示例数据（逐件走完真实办理流程并生成文书，约需半分钟）……", err=True)

        def render(letter_type: str, data: dict, *, draft: bool = False, signing=None):
            """With the demo agency's fonts and seal setting, as the web uses (the agency exists by the first letter);
            signed with its self-issued identity."""
            return renderer_for(agency_by_code(session, DEMO_AGENCY))(letter_type, data, draft=draft, signing=signing)

        result = create_demo(session, renderer=render, today=today)
    click.echo(f"已创建示例机关 {result.agency_code} 和 {result.cases} 件示例申请")
    _print_users(DEMO_PASSWORDS, existing=False)


def _print_users(passwords: dict, *, existing: bool) -> None:
    click.echo("示例用户（用户名 / 密码 / 角色）：" if not existing else "示例数据已存在；示例用户（用户名 / 密码 / 角色）：")
    for username, (display, _roles, password) in passwords.items():
        click.echo(f"  {username:<10} {password:<20} {display}")
