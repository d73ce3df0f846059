"""`gongkai webhook add|list|log`: the agency's webhook endpoints from the command line (as on 系统管理 › 推送)."""

from __future__ import annotations

import sys

import click


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


@click.group()
def webhook() -> None:
    """推送（Webhook）：把案件阶段变化、文书印发和送达登记推送给对接系统。"""


@webhook.command("add")
@click.argument("url")
@click.option("--agency", "code", required=True, help="机关代码")
@click.option("--event", "events", multiple=True,
              help="事件类型（可重复）：case.stage_changed、letter.issued、delivery.recorded；不填为全部")
@click.option("--description", default="", help="说明")
def webhook_add(url: str, code: str, events: tuple[str, ...], description: str) -> None:
    """添加推送地址 URL，并打印其签名密钥（只显示这一次）。"""
    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.services import webhooks
    from engine.services.accounts import agency_by_code

    try:
        with transaction() as session:
            endpoint = webhooks.add_endpoint(session, agency_by_code(session, code), url=url,
                                             events=list(events) or list(webhooks.EVENT_TYPES),
                                             description=description)
            click.echo(f"已添加推送地址 #{endpoint.id}：{endpoint.url}（{'、'.join(endpoint.events)}）", err=True)
            click.echo(endpoint.secret)
    except GongkaiError as exc:
        _fail(exc.message)


@webhook.command("list")
@click.option("--agency", "code", required=True, help="机关代码")
def webhook_list(code: str) -> None:
    """列出推送地址（密钥只显示首尾几位）及其送达情况。"""
    from sqlalchemy import func, select

    from engine.errors import GongkaiError
    from engine.persistence.db import transaction
    from engine.persistence.models import WebhookDelivery
    from engine.rules.vocabulary import WEBHOOK_DELIVERY_STATE_LABELS
    from engine.services import webhooks
    from engine.services.accounts import agency_by_code

    try:
        with transaction() as session:
            for endpoint in webhooks.endpoints(session, agency_by_code(session, code).id):
                counts = dict(session.execute(select(WebhookDelivery.status, func.count())
                                              .where(WebhookDelivery.endpoint_id == endpoint.id)
                                              .group_by(WebhookDelivery.status)).all())
                summary = "，".join(f"{WEBHOOK_DELIVERY_STATE_LABELS[s]} {n}" for s, n in sorted(counts.items()))
                click.echo(f"#{endpoint.id}\t{'启用' if endpoint.active else '已停用'}\t{endpoint.url}\t"
                           f"{'、'.join(endpoint.events)}\t{webhooks.mask_secret(endpoint.secret)}\t{summary or '无推送'}")
    except GongkaiError as exc:
        _fail(exc.message)
