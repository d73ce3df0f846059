"""The README's workflow diagram is the one generated from the state machine, not a drawing that drifts."""

from __future__ import annotations

import re
from pathlib import Path

from engine.rules.workflow import mermaid_diagram


def test_the_readme_shows_the_workflow_diagram_generated_from_the_chart():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", readme, flags=re.S)
    assert mermaid_diagram() in blocks
