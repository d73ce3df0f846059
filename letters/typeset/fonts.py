"""Font faces (HarfBuzz): glyph lookup, advances and subsetting; stacks of faces with fallback; text styles."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb

from letters.errors import LetterRenderError

BLACK = (0, 0, 0)


class Face:
    """One font file (one face of a collection): glyph lookup, advances, and subsetting with HarfBuzz."""

    def __init__(self, path: Path, index: int = 0) -> None:
        try:
            self.face = hb.Face(hb.Blob.from_file_path(str(path)), index)
        except Exception as error:  # noqa: BLE001 - HarfBuzz raises plain exceptions for unreadable files
            raise LetterRenderError(f"字体文件无法读取：{path}（{error}）") from error
        tags = set(self.face.table_tags)
        if "CFF " in tags:
            self.outlines = "cff"
        elif "glyf" in tags:
            self.outlines = "truetype"
        else:
            raise LetterRenderError(f"字体文件不是可嵌入的 OpenType/TrueType 字体：{path}")
        self.path = Path(path)
        self._font = hb.Font(self.face)
        self.upem = self.face.upem
        extents = self._font.get_font_extents("ltr")
        self.ascent = extents.ascender * 1000 / self.upem
        self.descent = extents.descender * 1000 / self.upem
        head = self.face.reference_table("head").data
        self.bbox = tuple(round(int.from_bytes(head[o:o + 2], "big", signed=True) * 1000 / self.upem)
                          for o in (36, 38, 40, 42)) if len(head) >= 44 else (0, round(self.descent), 1000,
                                                                               round(self.ascent))
        name = self.face.get_name(hb.OTNameIdPredefined.POSTSCRIPT_NAME) or path.stem
        self.ps_name = re.sub(r"[^A-Za-z0-9\-]", "-", name)[:60]
        self._gids: dict[str, int | None] = {}
        self._advances: dict[int, float] = {}

    def gid(self, char: str) -> int | None:
        try:
            return self._gids[char]
        except KeyError:
            gid = self._font.get_nominal_glyph(ord(char))
            self._gids[char] = gid or None
            return gid or None

    def advance(self, gid: int) -> float:
        """The glyph's advance width in thousandths of the em (PDF text space units)."""
        try:
            return self._advances[gid]
        except KeyError:
            width = self._advances[gid] = self._font.get_glyph_h_advance(gid) * 1000 / self.upem
            return width

    def subset(self, gids: Iterable[int]) -> tuple[bytes, dict[int, int]]:
        """A font program with only these glyphs (and .notdef), renumbered from 0, and old → new glyph ids.

        CFF outlines get an identity charset, so the new glyph id is the CID the PDF shows (Identity-H)."""
        subset_input = hb.SubsetInput()
        subset_input.glyph_set.update({0, *gids})
        subset_input.flags = (hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING
                              | hb.SubsetFlags.CFF_IDENTITY_CHARSET | hb.SubsetFlags.NOTDEF_OUTLINE)
        for tag in ("GSUB", "GPOS", "BASE", "JSTF", "DSIG", "VORG", "vhea", "vmtx", "SVG ", "COLR", "CPAL"):
            subset_input.drop_table_tag_set.add(_tag(tag))
        plan = hb.SubsetPlan(self.face, subset_input)
        mapping = dict(plan.old_to_new_glyph_mapping.items())
        program = plan.execute()
        if program is None:
            raise LetterRenderError(f"字体子集化失败：{self.path}")
        return program.blob.data, mapping


def _tag(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "big")


@functools.lru_cache(maxsize=32)
def load_face(path: str, index: int = 0) -> Face:
    """A face, loaded once per process (the file is memory-mapped by HarfBuzz)."""
    return Face(Path(path), index)


@functools.lru_cache(maxsize=32)
def system_face(family: str) -> Face | None:
    """An installed font family found through fontconfig (Debian's fonts-noto-cjk, fonts-lxgw-wenkai), or None."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "--format=%{file}\t%{index}\t%{family}", f"{family}:style=Regular"],
                           capture_output=True, text=True, check=False)
    parts = found.stdout.split("\t")
    if found.returncode != 0 or len(parts) != 3 or family.lower() not in parts[2].lower():
        return None
    return load_face(parts[0], int(parts[1] or 0))


# A character no face has is drawn as 〓 (U+3013 GETA MARK, the typesetter's mark for a missing character): PDF/A
# (ISO 19005-2/-3 §6.2.11.8) forbids any reference to .notdef, the box a font draws for a glyph it lacks.
GETA = "\u3013"
# Unicode's Default_Ignorable_Code_Point: variation selectors (a name's IVS), joiners, bidi marks and the like
# modify their neighbours and are never drawn by themselves; where no face maps them, they are left out.
DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]")


@dataclass(frozen=True)
class Glyph:
    face: Face
    gid: int
    advance: float
    text: str  # the character the glyph shows in extracted text: the character itself, or 〓 standing in for it


class FontStack:
    """Faces tried in order for each character (a configured face first, then fallbacks for rare characters)."""

    def __init__(self, faces: Sequence[Face]) -> None:
        if not faces:
            raise LetterRenderError("没有可用的字体：请安装 fonts-noto-cjk 或配置字体文件")
        self.faces = tuple(faces)
        self.primary = self.faces[0]
        self._glyphs: dict[str, Glyph | None] = {}

    def find(self, char: str) -> Glyph | None:
        """The glyph of the first face that has `char`, or None when no face has it."""
        for face in self.faces:
            gid = face.gid(char)
            if gid is not None:
                return Glyph(face, gid, face.advance(gid), char)
        return None

    def glyph(self, char: str) -> Glyph | None:
        """The glyph drawn for `char`: its own, else 〓 (never .notdef); None for an ignorable no face maps."""
        try:
            return self._glyphs[char]
        except KeyError:
            pass
        glyph = self.find(char)
        if glyph is None and not DEFAULT_IGNORABLE.fullmatch(char):
            geta = self.find(GETA)
            if geta is None:
                raise LetterRenderError(f"字体中没有替代字符“{GETA}”，无法标示缺字：请安装 fonts-noto-cjk")
            glyph = geta
        self._glyphs[char] = glyph
        return glyph

    def width(self, text: str, size: float, spacing: float = 0.0) -> float:
        glyphs = [g for g in map(self.glyph, text) if g is not None]
        return sum(g.advance for g in glyphs) * size / 1000 + spacing * len(glyphs)


@dataclass(frozen=True)
class Style:
    """A font stack at a size, with leading (line height as a multiple of the size) and a colour."""

    stack: FontStack
    size: float
    leading: float = 1.5
    color: tuple[float, float, float] = BLACK
    spacing: float = 0.0  # extra space after each character (CSS letter-spacing), in points

    @property
    def line_height(self) -> float:
        return self.size * self.leading

    def width(self, text: str) -> float:
        return self.stack.width(text, self.size, self.spacing)
