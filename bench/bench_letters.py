"""Letter rendering benchmark (not run by the tests): warm and first render, PDF size, LibreOffice ratio.

Targets (issue 4): warm one-page reply median ≤ 150 ms; first render in a new process including font
loading ≤ 1.5 s; one-page PDF ≤ 400 KB. LibreOffice headless converts the same letter (as HTML) for scale.
Run: .venv/bin/python bench/bench_letters.py
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WARM_RUNS = 30
FIRST_RENDER = """
import json, time
started = time.perf_counter()
from letters import render_letter, sample_data
letter = render_letter("reply", sample_data()["reply"])
print(json.dumps({"seconds": time.perf_counter() - started, "pages": letter.page_count}))
"""

# The reference for the warm render: the same measurement in a process where WeasyPrint copies each face's whole
# file for every document, as it does without `letters.font_data` (the library doing the same work).
EAGER_WARM_RENDER = """
import json, statistics, sys
sys.path.insert(0, sys.argv[1])
import letters.font_data
letters.font_data.install = lambda: False
from bench.bench_letters import warm_render_seconds
timings, _pdf, _pages = warm_render_seconds()
print(json.dumps({"median": statistics.median(timings), "installed": letters.font_data.installed()}))
"""


def eager_copy_median_seconds() -> float:
    """The warm reply's median render with WeasyPrint's own copy of every face's file (the reference)."""
    root = str(Path(__file__).resolve().parent.parent)
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", EAGER_WARM_RENDER, root],
                            capture_output=True, text=True, check=True)
    answer = json.loads(result.stdout)
    assert not answer["installed"]
    return answer["median"]


def warm_render_seconds() -> tuple[list[float], bytes, int]:
    from letters import render_letter, sample_data

    data = sample_data()["reply"]
    for _ in range(3):
        letter = render_letter("reply", data)
    timings = []
    for _ in range(WARM_RUNS):
        started = time.perf_counter()
        letter = render_letter("reply", data)
        timings.append(time.perf_counter() - started)
    return timings, letter.pdf, letter.page_count


def first_render_seconds() -> tuple[float, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", FIRST_RENDER], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return json.loads(result.stdout)["seconds"], wall


def libreoffice_seconds(workdir: Path) -> tuple[float, float] | None:
    """Cold and warm-profile wall time of `soffice --headless --convert-to pdf` on the same letter as HTML."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    from letters import render_html, sample_data

    # LibreOffice ignores @page and our fonts CSS; give it the letter's markup with plain equivalent styles.
    html = render_html("reply", sample_data()["reply"]).replace(
        "</head>", "<style>body{font-family:'FandolFang','Noto Serif CJK SC';font-size:16pt;line-height:29pt}"
        "h1{font-family:'Noto Serif CJK SC';font-size:22pt;text-align:center}"
        "h1 span{display:block}.doc-number{text-align:center}.body p{text-indent:2em}"
        ".signature{text-align:right;margin-right:4em}</style></head>")
    source = workdir / "reply.html"
    source.write_text(html, encoding="utf-8")
    profile = (workdir / "lo-profile").as_uri()
    timings = []
    for _ in range(2):  # first run creates the profile (cold), second reuses it
        started = time.perf_counter()
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(workdir), str(source)], capture_output=True, check=True, timeout=300)
        timings.append(time.perf_counter() - started)
    if not (workdir / "reply.pdf").exists():
        return None
    return timings[0], timings[1]


def main() -> None:
    timings, pdf, pages = warm_render_seconds()
    median = statistics.median(timings)
    eager = eager_copy_median_seconds()
    first, first_wall = first_render_seconds()
    print(f"warm render of the one-page reply: median {median * 1000:.1f} ms "
          f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f}, n={WARM_RUNS})  target ≤ 150 ms")
    print(f"the same with WeasyPrint copying each font's whole file (without letters.font_data): median "
          f"{eager * 1000:.1f} ms → {median / eager:.2f}× of it")
    print(f"first render in a new process incl. imports and font loading: {first:.2f} s "
          f"(process wall time {first_wall:.2f} s)  target ≤ 1.5 s")
    print(f"one-page PDF: {len(pdf) / 1024:.0f} KB, {pages} page(s)  target ≤ 400 KB")
    with tempfile.TemporaryDirectory() as workdir:
        office = libreoffice_seconds(Path(workdir))
    if office is None:
        print("LibreOffice: not installed (scripts/install-system-deps.sh --with-libreoffice)")
    else:
        cold, warm = office
        print(f"LibreOffice headless convert-to pdf of the same letter: {cold:.2f} s cold profile, {warm:.2f} s warm")
        print(f"ratio LibreOffice (warm profile) / WeasyPrint first render in a new process: {warm / first_wall:.1f}×; "
              f"/ WeasyPrint warm render: {warm / median:.0f}×")
    ok = median <= 0.150 and first <= 1.5 and len(pdf) <= 400 * 1024 and pages == 1
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
