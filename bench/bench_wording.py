"""Agency wording benchmark (not run by the tests): checking a new version and the live page preview.

Saving a version validates every slot and lints the sample preview once per changed slot plus once for the
built-in wording, so its cost grows with the slots changed; the admin page's live preview re-renders on typing.
Run: .venv/bin/python bench/bench_wording.py
"""

from __future__ import annotations

import statistics
import time

RUNS = 30


def median_ms(call) -> tuple[float, float]:
    call()
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000, max(timings) * 1000


def main() -> None:
    from letters import LETTER_TYPES, wording
    from letters.wording_preview import check, preview_blocks

    slots = {**wording.default_slots("reply"), "additional": "如需纸质答复书，请凭登记编号{登记编号}到窗口领取。",
             "closing": "特此答复。", "contact": "咨询电话：{联系电话}"}
    median, worst = median_ms(lambda: check("reply", slots))
    print(f"check of a reply version with 3 changed slots: median {median:.1f} ms, max {worst:.1f} ms")
    median, worst = median_ms(lambda: preview_blocks("reply", slots))
    print(f"live page preview of the reply: median {median:.1f} ms, max {worst:.1f} ms")
    median, worst = median_ms(lambda: [check(t, {"closing": "特此函告。"}) for t in LETTER_TYPES])
    print(f"check of one changed slot on every one of the {len(LETTER_TYPES)} letter types: "
          f"median {median:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
