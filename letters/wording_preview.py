"""Previews of an agency's wording on the sample letter of each type, and the checks a new version must pass:
every slot valid (`letters.wording`) and no wording problem (`letters.lint`) that the built-in wording lacks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from letters import wording
from letters.assets import AssetConfig
from letters.lint import wording_problems
from letters.render import RenderedLetter, build_letter_data, render_html, render_letter
from letters.samples import sample_data

# What of the letter's own data a preview takes from the agency instead of the fictitious sample.
AGENCY_FIELDS = ("agency_name", "contact", "contact_phone")


@dataclass(frozen=True)
class PreviewBlock:
    """One block of the letter as the reader sees it: its role (title, p, signer, note…) and its text."""

    role: str
    text: str


def sample_with_wording(letter_type: str, slots: Mapping[str, str] | None, *,
                        agency: Mapping[str, str | None] | None = None, version: int = 0) -> dict:
    """The sample data of `letter_type` with the agency's name and contact and the given slots."""
    data = sample_data()[letter_type]
    for name in AGENCY_FIELDS:
        if agency is not None and name in agency:
            data[name] = agency[name] or None
    if slots is not None:
        data["wording"] = {"version": version, "slots": dict(slots)}
    return data


def preview_blocks(letter_type: str, slots: Mapping[str, str] | None, *,
                   agency: Mapping[str, str | None] | None = None) -> list[PreviewBlock]:
    """The sample letter with these slots as a list of text blocks (for a page preview, escaped by its template)."""
    html = render_html(letter_type, sample_with_wording(letter_type, slots, agency=agency))
    parser = _BlockParser()
    parser.feed(html.partition("<body")[2])
    parser.close()
    return parser.blocks


def left_out(letter_type: str, slots: Mapping[str, str], *, agency: Mapping[str, str | None] | None = None
             ) -> dict[str, str]:
    """Each slot the preview leaves out, with a Chinese sentence saying which placeholders have no value."""
    letter = build_letter_data(letter_type, sample_with_wording(letter_type, slots, agency=agency))
    labels = {slot.name: slot.label for slot in wording.slots(letter_type)}
    return {name: f"措辞“{labels[name]}”用到的 {' '.join('{' + used + '}' for used in missing)} 在本文书中没有值，"
                  "这一段不会印出（可在机关设置中补充）"
            for name, missing in wording.unfilled(letter_type, letter, slots).items()}


def preview_text(letter_type: str, slots: Mapping[str, str] | None, *,
                 agency: Mapping[str, str | None] | None = None) -> str:
    """The sample letter's text with these slots, one block a line (what the wording lint reads)."""
    return "\n".join(block.text for block in preview_blocks(letter_type, slots, agency=agency))


def preview_pdf(letter_type: str, slots: Mapping[str, str] | None, *, agency: Mapping[str, str | None] | None = None,
                assets: AssetConfig | None = None) -> RenderedLetter:
    """The sample letter with these slots as a PDF marked 样稿."""
    return render_letter(letter_type, sample_with_wording(letter_type, slots, agency=agency), draft=True,
                         assets=assets)


def check(letter_type: str, slots: Mapping[str, object], *,
          agency: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Every problem of a proposed version by slot: invalid text first; then, slot by slot, wording problems the
    lint finds in the preview that the built-in wording's preview does not have."""
    problems = wording.slot_problems(letter_type, slots)
    if problems:
        return problems
    defaults = wording.default_slots(letter_type)
    baseline = Counter(wording_problems(preview_text(letter_type, defaults, agency=agency)))
    labels = {slot.name: slot.label for slot in wording.slots(letter_type)}
    changed = [name for name, text in slots.items() if text != defaults.get(name)]
    for name in changed:
        found = Counter(wording_problems(preview_text(letter_type, {**defaults, name: slots[name]}, agency=agency)))
        new = list((found - baseline).elements())
        if new:
            problems[name] = f"措辞“{labels[name]}”（{name}）使预览出现文字问题：" + "；".join(new)
    if not problems and len(changed) > 1:
        found = Counter(wording_problems(preview_text(letter_type, {**defaults, **slots}, agency=agency)))
        new = list((found - baseline).elements())
        if new:
            problems[changed[-1]] = "各段措辞合在一起使预览出现文字问题：" + "；".join(new)
    return problems


class _BlockParser(HTMLParser):
    """Collects the text of each block element of a rendered letter with the class that gives its role."""

    _BLOCKS = {"p", "h1", "td", "th"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[PreviewBlock] = []
        self._role: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._BLOCKS:
            classes = (dict(attrs).get("class") or "").split()
            self._role = "title" if tag == "h1" else "cell" if tag in ("td", "th") else (classes[0] if classes else "p")
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS and self._role is not None:
            text = "".join(self._text).strip()
            if text:
                self.blocks.append(PreviewBlock(self._role, text))
            self._role = None

    def handle_data(self, data: str) -> None:
        if self._role is not None:
            self._text.append(data.replace("\n", ""))
