"""Characters no font of a letter can draw are set as 〓 (U+3013) before the letter is laid out, never as .notdef.

PDF/A (ISO 19005-2/-3 §6.2.11.8) forbids any reference to the .notdef glyph, the box a font shows for a character it
lacks; a name with a character outside every font (a Plane-3 ideograph, a private-use code) would otherwise put one
in the letter. Each text of the letter is checked against the font stack its element is set in — the agency's (or
the free default) face for that role, then the Debian fallbacks (Noto Serif CJK SC, Noto Sans CJK SC, LXGW WenKai) —
the same stacks `assets.font_css` gives WeasyPrint. A stray system font that happens to have the character is not
consulted, so a letter renders the same on every server that has the packages installed.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from pathlib import Path

from letters.assets import FALLBACK_FAMILIES, FontConfig
from letters.typeset.fonts import GETA, FontStack, load_face, system_face

# The element classes of the templates and the font role the generated stylesheet gives them (assets.font_css).
_CLASS_ROLES = {"title": "title", "heading": "hei", "subheading": "kai", "kai": "kai"}
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})
_TOKEN = re.compile(r"(<[^>]*>)")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z0-9]+)([^>]*?)(/?)\s*>$", re.DOTALL)
_REFERENCE = re.compile(r"(&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);)")
_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


@functools.lru_cache(maxsize=8)
def _stacks(fonts: FontConfig) -> dict[str, FontStack]:
    """One stack per role: the role's configured face (if its file is there), then the fallbacks."""
    fallbacks = [face for face in (system_face(family) for family in FALLBACK_FAMILIES) if face is not None]
    stacks = {}
    for role in ("fangsong", "title", "hei", "kai", "song"):
        path = getattr(fonts, role)
        first = [load_face(str(Path(path).resolve()))] if path is not None and Path(path).is_file() else []
        stacks[role] = FontStack([*first, *fallbacks])
    return stacks


def draw_missing_as_geta(html: str, fonts: FontConfig) -> str:
    """The letter's HTML with every character its element's fonts cannot draw replaced by 〓.

    Only the text of the body is touched (never tags, attributes or the head): Jinja has escaped the case data in
    it, so replacing characters there can neither form nor break markup."""
    head, marker, body = html.partition("<body")
    if not marker:
        head, body = "", html
    stacks = _stacks(fonts)
    roles = ["fangsong"]   # the role of each open element, the document's at the bottom
    names = [""]
    out = []
    for token in _TOKEN.split(body):
        if token.startswith("<"):
            out.append(token)
            _follow(token, names, roles)
        elif token:
            out.append(_replace(token, stacks[roles[-1]]))
    return head + marker + "".join(out)


def _follow(token: str, names: list[str], roles: list[str]) -> None:
    """Keep the open-element stack up to date with one tag (comments and doctypes do not match `_TAG`)."""
    tag = _TAG.match(token)
    if tag is None:
        return
    closing, name, attributes, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3), tag.group(4)
    if closing:
        if name in names[1:]:
            where = len(names) - 1 - names[::-1].index(name)
            del names[where:], roles[where:]
        return
    if name in _VOID or self_closing:
        return
    role = roles[-1]
    found = _CLASS.search(attributes)
    if found:
        for css_class in next(group for group in found.groups() if group is not None).split():
            role = _CLASS_ROLES.get(css_class, role)
    names.append(name)
    roles.append(role)


def _replace(text: str, stack: FontStack) -> str:
    # Character references stand for characters too (Jinja writes &#34; and &#39;, all ASCII, but be exact).
    parts = _REFERENCE.split(text)
    out = []
    for n, part in enumerate(parts):
        if n % 2:
            char = html_lib.unescape(part)
            out.append(part if len(char) != 1 or _draws(char, stack) else GETA)
        else:
            out.append("".join(char if _draws(char, stack) else GETA for char in part))
    return "".join(out)


def _draws(char: str, stack: FontStack) -> bool:
    """Whether the stack draws `char` itself; control characters (line breaks) and ignorables it cannot map (a
    variation selector) are left alone: they are not drawn."""
    if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
        return True
    glyph = stack.glyph(char)
    return glyph is None or glyph.text == char
