"""`gongkai letter samples` and `gongkai letter render` (DESIGN §7), run as the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from letters import LETTER_TYPES, OUTCOME_FAMILIES

GONGKAI = str(Path(sys.executable).parent / "gongkai")


def gongkai(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, encoding="utf-8", timeout=120)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("letters")
    result = gongkai("letter", "samples", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_samples_writes_one_pdf_and_its_data_per_type_and_per_reply_family(samples_dir):
    expected = set(LETTER_TYPES) | {f"reply_{family}" for family in OUTCOME_FAMILIES} | {"reply_mixed"}
    assert {path.stem for path in samples_dir.glob("*.pdf")} == expected
    assert {path.stem for path in samples_dir.glob("*.json")} == expected
    for name in expected:
        assert (samples_dir / f"{name}.pdf").read_bytes().startswith(b"%PDF-")
        assert json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8"))["agency_name"]


def test_render_turns_a_samples_json_back_into_the_same_letter(samples_dir, tmp_path):
    out = tmp_path / "答复书.pdf"
    result = gongkai("letter", "render", "reply", "--data", str(samples_dir / "reply_withheld.json"),
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "sha256=" in result.stdout
    assert pdf_text(out) == pdf_text(samples_dir / "reply_withheld.pdf")


def test_render_of_incomplete_data_names_the_field_and_exits_2(samples_dir, tmp_path):
    data = json.loads((samples_dir / "reply_mixed.json").read_text(encoding="utf-8"))
    del data["items"][1]["basis"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out.pdf"
    result = gongkai("letter", "render", "reply", "--data", str(bad), "--out", str(out))
    assert result.returncode == 2
    assert "字段 items[1].basis 缺失" in result.stderr
    assert not out.exists()


def test_render_of_an_unknown_type_or_a_broken_file_exits_2_with_a_chinese_message(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"agency_name": ', encoding="utf-8")
    unknown = gongkai("letter", "render", "answer", "--data", str(broken), "--out", str(tmp_path / "x.pdf"))
    assert unknown.returncode == 2 and "未知的文书类型：answer" in unknown.stderr
    not_json = gongkai("letter", "render", "reply", "--data", str(broken), "--out", str(tmp_path / "x.pdf"))
    assert not_json.returncode == 2 and "数据文件不是有效的 JSON" in not_json.stderr
    missing = gongkai("letter", "render", "reply", "--data", str(tmp_path / "none.json"), "--out", "x.pdf")
    assert missing.returncode == 2 and "数据文件不存在" in missing.stderr


def test_a_draft_render_is_marked_as_a_draft(samples_dir, tmp_path):
    out = tmp_path / "draft.pdf"
    result = gongkai("letter", "render", "receipt", "--data", str(samples_dir / "receipt.json"),
                     "--out", str(out), "--draft")
    assert result.returncode == 0, result.stderr
    assert "样稿" in pdf_text(out)
