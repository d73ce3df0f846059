"""The `gongkai` command (DESIGN §7). Each area registers its own click group or command below.

Subcommand modules import their heavy dependencies lazily so that `gongkai deadline --batch` starts fast.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """公开（Gongkai）政府信息依申请公开办理系统 命令行工具。"""


def _register() -> None:
    from webui.commands import core_cmds, demo_cmds

    for command in (core_cmds.db, core_cmds.agency, core_cmds.user, core_cmds.token, core_cmds.audit,
                    core_cmds.serve, core_cmds.workflow, demo_cmds.demo):
        main.add_command(command)
    from webui.commands import calendar_cmds

    main.add_command(calendar_cmds.deadline)
    main.add_command(calendar_cmds.calendar)
    from webui.commands import letter_cmds, signing_cmds
    main.add_command(letter_cmds.letter)
    letter_cmds.letter.add_command(signing_cmds.letter_verify)
    core_cmds.agency.add_command(signing_cmds.signing_key)
    from webui.commands import report_cmds
    main.add_command(report_cmds.report)
    from webui.commands import ledger_cmds
    main.add_command(ledger_cmds.ledger)
    from webui.commands import archive_cmds
    main.add_command(archive_cmds.archive)
    from webui.commands import job_cmds
    main.add_command(job_cmds.worker)
    main.add_command(job_cmds.scheduler)
    from webui.commands import backup_cmds
    main.add_command(backup_cmds.backup)
    main.add_command(backup_cmds.restore)
    from webui.commands import webhook_cmds
    main.add_command(webhook_cmds.webhook)


_register()
