"""Fonts and seal a letter may use (GB/T 9704-2012 §6): free defaults, or an agency's own licensed files."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
PROJECT_ROOT = PACKAGE_DIR.parent


# Families resolved through fontconfig (Debian's fonts-noto-cjk, fonts-lxgw-wenkai): no file fetch needed.
# Noto Serif CJK lacks Ext-B (𠮷); Noto Sans CJK SC and LXGW WenKai carry it, so they close every stack.
FALLBACK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC", "LXGW WenKai")
_FALLBACK = tuple(f'"{family}"' for family in FALLBACK_FAMILIES)
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
    """The fonts and the seal the renderer may load; nothing else is ever fetched.

    The seal is an image (电子印章) or, for an agency that seals the printed letter by hand, the placeholder
    “（印章）” printed where the seal goes (GB/T 9704-2012 §7.3.5.1)."""

    fonts: FontConfig = field(default_factory=FontConfig)
    seal_image: Path | None = None
    seal_placeholder: bool = False

    def __post_init__(self) -> None:
        if self.seal_image is not None:
            object.__setattr__(self, "seal_image", Path(self.seal_image))

    def allowed_files(self) -> frozenset[Path]:
        """Every file outside the bundled assets that the renderer may read, as real paths."""
        files = set(self.fonts.files())
        if self.seal_image is not None:
            files.add(Path(self.seal_image).resolve())
        return frozenset(files)

    def for_preview(self) -> AssetConfig:
        """These assets without the files that are missing: a preview (样稿) falls back to the free fonts."""
        present = {role: getattr(self.fonts, role) for role in FONT_ROLES}
        fonts = FontConfig(**{role: path if path is not None and path.is_file() else None
                              for role, path in present.items()})
        seal = self.seal_image if self.seal_image is not None and self.seal_image.is_file() else None
        return replace(self, fonts=fonts, seal_image=seal)


FONT_ROLES = ("fangsong", "title", "hei", "kai", "song")
ROLE_LABELS = {"fangsong": "正文仿宋", "title": "标题", "hei": "黑体", "kai": "楷体", "song": "宋体"}
FANDOL_FANG = "FandolFang-Regular.otf"
# The free defaults and where they come from, for the message that tells an administrator what to install.
FANDOL_SOURCE = "Debian 软件包 texlive-lang-chinese 中的 FandolFang，以 root 运行 scripts/install-system-deps.sh 即可提取"
DEFAULT_TITLE = ("Noto Serif CJK SC", "Bold", "Debian 软件包 fonts-noto-cjk 中的 NotoSerifCJK-Bold.ttc")


def default_font_dir() -> Path:
    """Where the extracted Fandol fonts are: $GONGKAI_FONT_DIR, else var/fonts of the checkout (or, installed
    from a wheel, of the working directory)."""
    configured = os.environ.get("GONGKAI_FONT_DIR")
    if configured:
        return Path(configured)
    home = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()
    return home / "var" / "fonts"


def default_assets() -> AssetConfig:
    """The free default fonts: FandolFang from var/fonts (or $GONGKAI_FONT_DIR), the rest from fontconfig.

    FandolFang is named even when it is not there yet (scripts/install-system-deps.sh not run): an issued letter
    is then refused, naming it, and a preview falls back to Noto Serif CJK (`AssetConfig.for_preview`)."""
    return AssetConfig(fonts=FontConfig(fangsong=default_font_dir() / FANDOL_FANG))


def issue_problems(assets: AssetConfig) -> list[str]:
    """Why a letter cannot be issued with these assets: a font it must be set in, or the seal, is missing.

    A signed or numbered letter is never set in a fallback font; only a preview (样稿) may be."""
    problems = []
    for role in FONT_ROLES:
        path = getattr(assets.fonts, role)
        if path is None or Path(path).is_file():
            continue
        if Path(path).name == FANDOL_FANG and role == "fangsong":
            problems.append(f"缺少{ROLE_LABELS[role]}字体文件 {path}（{FANDOL_SOURCE}）")
        else:
            problems.append(f"缺少{ROLE_LABELS[role]}字体文件 {path}（机关设置中指定的字体：请把该字体文件安装到此位置，"
                            "或在机关设置中改用其他字体）")
    if assets.fonts.title is None and not installed_family(*DEFAULT_TITLE[:2]):
        problems.append(f"缺少标题字体 {DEFAULT_TITLE[0]} {DEFAULT_TITLE[1]}（{DEFAULT_TITLE[2]}）")
    if assets.seal_image is not None and not assets.seal_image.is_file():
        problems.append(f"印章图片文件不存在：{assets.seal_image}（请在机关设置中重新上传印章）")
    return problems


@functools.lru_cache(maxsize=16)
def installed_family(family: str, style: str) -> bool:
    """Whether fontconfig knows a face of `family` in `style` (not a substitute it would pick instead)."""
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", f"{family}:style={style}", "file"], capture_output=True, text=True,
                           check=False)
    return found.returncode == 0 and bool(found.stdout.strip())


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
