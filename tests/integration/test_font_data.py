"""letters.font_data: WeasyPrint copies a face's file only when it reads it, and writes the same PDF as without."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from letters import font_data, render_letter, sample_data

ROOT = Path(__file__).resolve().parents[2]

# Renders one letter in a fresh process and prints its SHA-256: "lazy" with the patch (as letters.render installs
# it), "eager" with WeasyPrint's own copy; "fonttools" makes WeasyPrint subset with fontTools, the path that reads
# the whole face's bytes (without HarfBuzz-Subset installed).
RENDER = """
import hashlib, sys
mode, subsetter, letter_type = sys.argv[1:4]
import letters.font_data
if mode == "eager":
    letters.font_data.install = lambda: False
from weasyprint.pdf import fonts
if subsetter == "fonttools":
    fonts.harfbuzz_subset = None
from letters import render_letter, sample_data
letter = render_letter(letter_type, sample_data()[letter_type])
print(letters.font_data.installed(), hashlib.sha256(letter.pdf).hexdigest())
"""


def _render_elsewhere(mode: str, subsetter: str, letter_type: str) -> tuple[bool, str]:
    # fontTools stamps the fonts it saves with the time, unless SOURCE_DATE_EPOCH fixes it.
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", RENDER, mode, subsetter, letter_type], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300, check=True).stdout.split()
    return out[-2] == "True", out[-1]


@pytest.mark.parametrize("letter_type", ["receipt", "reply"])
def test_the_pdf_is_byte_for_byte_the_one_weasyprint_writes_without_the_patch(letter_type):
    lazy_installed, lazy = _render_elsewhere("lazy", "harfbuzz", letter_type)
    eager_installed, eager = _render_elsewhere("eager", "harfbuzz", letter_type)
    assert (lazy_installed, eager_installed) == (font_data.installed(), False)
    assert lazy == eager
    here = render_letter(letter_type, sample_data()[letter_type]).pdf
    assert hashlib.sha256(here).hexdigest() == lazy


@pytest.mark.slow
def test_a_path_that_reads_the_whole_face_gets_its_bytes():
    """fontTools' subsetter reads `file_content` (the whole face): the lazy copy gives it the same bytes."""
    lazy_installed, lazy = _render_elsewhere("lazy", "fonttools", "receipt")
    _, eager = _render_elsewhere("eager", "fonttools", "receipt")
    assert lazy_installed == font_data.installed()
    assert lazy == eager


def test_the_copy_is_made_when_read_and_only_then(monkeypatch):
    if not font_data.installed():
        pytest.skip("this WeasyPrint's Font is not the shape the patch was written for: it copies as before")
    from weasyprint.pdf import fonts
    from weasyprint.text.fonts import get_hb_object_data as eager_copy

    seen = []
    constructor = fonts.Font.__init__

    def watched(self, *args, **kwargs):
        constructor(self, *args, **kwargs)
        kept = self.__dict__["_file_content"]
        seen.append((isinstance(kept, font_data.FaceData), bool(kept)))  # before anything reads it
        whole = eager_copy(self.hb_face)
        assert self.file_content == whole and len(whole) > 1_000_000  # read: the face's whole file
        assert self.__dict__["_file_content"] is not kept  # copied once, then kept as bytes
        self.file_content = b"OTTO"
        assert self.type == "otf"
        self.file_content = whole

    monkeypatch.setattr(fonts.Font, "__init__", watched)
    letter = render_letter("receipt", sample_data()["receipt"])
    assert letter.pdf.startswith(b"%PDF")
    assert seen and all(state == (True, True) for state in seen), seen
