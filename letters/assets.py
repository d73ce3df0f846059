"""Fonts and seal a letter may use (GB/T 9704-2012 §6): free defaults, or an agency's own licensed files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
PROJECT_ROOT = PACKAGE_DIR.parent

# Families resolved through fontconfig (Debian's fonts-noto-cjk, fonts-lxgw-wenkai): no file fetch needed.
# Noto Serif CJK lacks Ext-B (𠮷); Noto Sans CJK SC and LXGW WenKai carry it, so they close every stack.
_FALLBACK = ('"Noto Serif CJK SC"', '"Noto Sans CJK SC"', '"LXGW WenKai"')
_SYSTEM = {
    "title": ('"Noto Serif CJK SC"',),
    "fangsong": (),
    "hei": ('"Noto Sans CJK SC"',),
    "kai": ('"LXGW WenKai"',),
    "song": ('"Noto Serif CJK SC"',),
}


@dataclass(frozen=True)
class FontConfig:
    """Font files for each role (仿宋 body, 小标宋 title, 黑体, 楷体, 宋体 page numbers); None = system default."""

    fangsong: Path | None = None
    title: Path | None = None
    hei: Path | None = None
    kai: Path | None = None
    song: Path | None = None

    def __post_init__(self) -> None:
        for role in ("fangsong", "title", "hei", "kai", "song"):
            if getattr(self, role) is not None:
                object.__setattr__(self, role, Path(getattr(self, role)))

    def files(self) -> tuple[Path, ...]:
        """The configured font files, resolved."""
        return tuple(Path(path).resolve() for path in (self.fangsong, self.title, self.hei, self.kai, self.song)
                     if path is not None)


@dataclass(frozen=True)
class AssetConfig:
    """The fonts and the seal image (印章) the renderer may load; nothing else is ever fetched."""

    fonts: FontConfig = field(default_factory=FontConfig)
    seal_image: Path | None = None

    def __post_init__(self) -> None:
        if self.seal_image is not None:
            object.__setattr__(self, "seal_image", Path(self.seal_image))

    def allowed_files(self) -> frozenset[Path]:
        """Every file outside the bundled assets that the renderer may read, as real paths."""
        files = set(self.fonts.files())
        if self.seal_image is not None:
            files.add(Path(self.seal_image).resolve())
        return frozenset(files)


def default_assets() -> AssetConfig:
    """The free default fonts: FandolFang from var/fonts (or $GONGKAI_FONT_DIR), the rest from fontconfig."""
    font_dir = Path(os.environ.get("GONGKAI_FONT_DIR") or PROJECT_ROOT / "var" / "fonts")
    fangsong = font_dir / "FandolFang-Regular.otf"
    # Without FandolFang (scripts/install-system-deps.sh not run yet) the body falls back to Noto Serif CJK.
    return AssetConfig(fonts=FontConfig(fangsong=fangsong if fangsong.is_file() else None))


def font_css(fonts: FontConfig) -> str:
    """The @font-face rules and font stacks for `fonts` (paths come from settings, never from case data)."""
    rules = []
    stacks = {}
    for role, system in _SYSTEM.items():
        path = getattr(fonts, role)
        families = []
        if path is not None:
            family = f"GK {role}"
            rules.append(f'@font-face {{ font-family: "{family}"; src: url("{Path(path).resolve().as_uri()}"); }}')
            families.append(f'"{family}"')
        families.extend(system)
        families.extend(name for name in _FALLBACK if name not in families)
        stacks[role] = ", ".join(families)
    # A configured title font (方正小标宋) is heavy by design; the free default needs the Bold face.
    title_weight = "normal" if fonts.title is not None else "bold"
    rules += [
        f"html, body {{ font-family: {stacks['fangsong']}; }}",
        f".title {{ font-family: {stacks['title']}; font-weight: {title_weight}; }}",
        f".heading {{ font-family: {stacks['hei']}; font-weight: normal; }}",
        f".subheading, .kai {{ font-family: {stacks['kai']}; font-weight: normal; }}",
        f"@page {{ font-family: {stacks['song']}; }}",
    ]
    return "\n".join(rules) + "\n"
