"""`gongkai letter template show|set` and `gongkai letter render --agency` (DESIGN §7 agency wording), run as the
real command against a migrated database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.config import load_settings
from engine.persistence.db import default_engine
from letters import LETTER_TYPES, sample_data, wording
from webui.commands import main

GONGKAI = str(Path(sys.executable).with_name("gongkai"))


def run(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def in_process(db_url, agency, monkeypatch):
    """The command in this process (fast, for the loop over every letter type), on the test's database."""
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db_url)
    load_settings.cache_clear()
    default_engine.cache_clear()
    yield lambda *args: CliRunner().invoke(main, list(args))
    default_engine().dispose()
    load_settings.cache_clear()
    default_engine.cache_clear()


def test_show_prints_the_built_in_version_0_of_every_letter_type(in_process, agency):
    for letter_type in LETTER_TYPES:
        result = in_process("letter", "template", "show", letter_type, "--agency", agency.code)
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert shown == {"type": letter_type, "version": 0, "slots": wording.default_slots(letter_type),
                         "placeholders": wording.placeholder_names(letter_type)}


def test_set_saves_and_activates_a_new_version_that_show_and_render_use(db_url, agency, tmp_path):
    slots = tmp_path / "receipt.json"
    slots.write_text(json.dumps({"slots": {"contact": "办理进度咨询：{机关名称}，登记编号{登记编号}"}},
                                ensure_ascii=False), encoding="utf-8")
    result = run(db_url, "letter", "template", "set", "receipt", "--agency", agency.code, "--file", str(slots))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 1 and "已保存并启用第1版措辞" in result.stderr
    shown = json.loads(run(db_url, "letter", "template", "show", "receipt", "--agency", agency.code).stdout)
    assert shown["version"] == 1 and shown["slots"]["contact"] == "办理进度咨询：{机关名称}，登记编号{登记编号}"
    assert shown["slots"]["opening"] == wording.default_slots("receipt")["opening"]
    assert set(shown) == {"type", "version", "slots", "placeholders"}

    data = tmp_path / "data.json"
    data.write_text(json.dumps(sample_data()["receipt"], ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "receipt.pdf"
    rendered = run(db_url, "letter", "render", "receipt", "--data", str(data), "--out", str(out), "--agency",
                   agency.code)
    assert rendered.returncode == 0, rendered.stderr
    text = "".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout.split())
    text = re.sub(r"—\d+—(?=.)", "", text)  # a page footer where the note runs over a page
    assert "办理进度咨询：江南市自然资源和规划局，登记编号依申请〔2026〕37号" in text


@pytest.mark.parametrize("slots, named", [
    ({"contact": "{{ 7*7 }}"}, "（contact）含有模板语法"),
    ({"closing": "{% for x in y %}{% endfor %}"}, "（closing）含有模板语法"),
    ({"additional": "<script>alert(1)</script>"}, "（additional）含有尖括号"),
    ({"additional": "请找{经办人}"}, "（additional）含有未知的占位符“{经办人}”"),
    ({"additional": "退格\b"}, "（additional）含有控制字符 U+0008"),
    ({"footer": "页脚"}, "“footer”不是"),
])
def test_set_refuses_bad_wording_with_exit_2_naming_the_slot(in_process, agency, tmp_path, slots, named):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"slots": slots}, ensure_ascii=False), encoding="utf-8")
    result = in_process("letter", "template", "set", "receipt", "--agency", agency.code, "--file", str(bad))
    assert result.exit_code == 2
    assert named in result.output
    shown = in_process("letter", "template", "show", "receipt", "--agency", agency.code)
    assert json.loads(shown.output)["version"] == 0


def test_unknown_types_agencies_and_files_exit_2(in_process, agency, tmp_path):
    assert in_process("letter", "template", "show", "memo", "--agency", agency.code).exit_code == 2
    missing = in_process("letter", "template", "show", "reply", "--agency", "NOPE")
    assert missing.exit_code == 2 and "没有代码为「NOPE」的机关" in missing.output
    assert in_process("letter", "template", "set", "reply", "--agency", agency.code, "--file",
                      str(tmp_path / "none.json")).exit_code == 2
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    assert in_process("letter", "template", "set", "reply", "--agency", agency.code, "--file",
                      str(tmp_path / "list.json")).exit_code == 2
