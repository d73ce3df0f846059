"""The `gongkai` command (DESIGN §7). Each area registers its own click group or command below.

Subcommand modules import their heavy dependencies lazily so that `gongkai deadline --batch` starts fast.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """公开（Gongkai）政府信息依申请公开办理系统 命令行工具。"""


def _register() -> None:
    from webui.commands import calendar_cmds

    main.add_command(calendar_cmds.deadline)
    main.add_command(calendar_cmds.calendar)


_register()
