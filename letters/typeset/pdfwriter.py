"""The PDF/A-3b writer (pydyf): pages into content streams, fonts embedded as subsets, metadata, attachments."""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pydyf

from letters.typeset.fonts import Face
from letters.typeset.layout import LineOp, Page, RectOp, TextOp

ICC_PROFILE = Path(__file__).resolve().parents[1] / "assets" / "sRGB2014.icc"


@dataclass(frozen=True)
class Attachment:
    """A file embedded as a PDF/A-3 associated file (the case file's manifest.json)."""

    name: str
    content: bytes
    mime: str
    description: str
    relationship: str = "Data"


@dataclass(frozen=True)
class Metadata:
    title: str
    author: str
    keywords: str
    created: datetime  # aware
    creator: str = "Gongkai"
    producer: str = "Gongkai"
    lang: str = "zh-CN"
    pdfa: bool = True  # declare PDF/A-3b; False when pages that are not PDF/A will be added (no false claim)
    subject: str = ""  # /Subject and dc:description, e.g. why the file does not declare PDF/A


def write_pdfa(pages: Sequence[Page], metadata: Metadata, attachments: Sequence[Attachment] = ()) -> bytes:
    """The pages as one PDF/A-3b file: every font embedded as a subset with a ToUnicode map, sRGB output
    intent, XMP metadata matching the document information, attachments as associated files (AF)."""
    resolved = [_resolve(page) for page in pages]
    used: dict[Face, dict[int, str]] = {}
    for runs in resolved:
        for run in runs:
            if isinstance(run, _Run):
                per_face = used.setdefault(run.face, {})
                for gid, char in zip(run.gids, run.text, strict=True):
                    per_face.setdefault(gid, char)
    pdf = pydyf.PDF()
    fonts = {}
    font_names = {}
    for n, (face, glyphs) in enumerate(sorted(used.items(), key=lambda item: item[0].ps_name), start=1):
        reference, mapping = _embed_font(pdf, face, glyphs)
        fonts[f"F{n}"] = reference
        font_names[face] = (f"F{n}", mapping)
    resources = pydyf.Dictionary({"Font": pydyf.Dictionary(fonts), "ProcSet": pydyf.Array(["/PDF", "/Text"])})
    pdf.add_object(resources)
    contents = [_content(runs, font_names) for runs in resolved]
    for page, data in zip(pages, contents, strict=True):
        content = pydyf.Stream([data], compress=True)
        pdf.add_object(content)
        pdf.add_page(pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, round(page.width, 4), round(page.height, 4)]),
            "Contents": content.reference, "Resources": resources.reference}))
    _pdfa_catalog(pdf, metadata, attachments)
    identifier = hashlib.md5(b"".join(contents) + metadata.title.encode()  # noqa: S324 - a file ID, not security
                             + metadata.created.isoformat().encode()).hexdigest()
    out = io.BytesIO()
    pdf.write(out, version=b"1.7", identifier=identifier.encode(), compress=True)
    return out.getvalue()


@dataclass
class _Run:
    x: float
    y: float  # baseline, PDF coordinates (from the bottom)
    size: float
    color: tuple[float, float, float]
    spacing: float
    face: Face
    gids: list[int]
    text: str


def _resolve(page: Page) -> list:
    """The page's operations in PDF coordinates: rules and boxes as path operators, text as runs of one face."""
    out: list = []
    for op in page.ops:
        if isinstance(op, TextOp):
            out.extend(_text_runs(op, page.height))
        else:
            out.append(_stroke(op, page.height))
    return out


def _stroke(op: LineOp | RectOp, page_height: float) -> bytes:
    if isinstance(op, LineOp):
        return b"%s RG %s w %s %s m %s %s l S" % (
            _rgb(op.color), _num(op.stroke_width), _num(op.x1), _num(page_height - op.y1), _num(op.x2),
            _num(page_height - op.y2))
    return b"%s RG %s w %s %s %s %s re S" % (
        _rgb(op.color), _num(op.stroke_width), _num(op.x), _num(page_height - op.y - op.h), _num(op.w), _num(op.h))


def _text_runs(op: TextOp, page_height: float) -> list[_Run]:
    """The line with its alignment applied, split into runs of one face."""
    text = op.text
    if not text:
        return []
    out: list[_Run] = []
    style = op.style
    x, spacing = op.x, style.spacing
    glyphs = [glyph for glyph in map(style.stack.glyph, text) if glyph is not None]
    natural = style.width(text) - (spacing if glyphs else 0.0)
    if op.align == "center":
        x += (op.width - natural) / 2
    elif op.align == "right":
        x += op.width - natural
    elif op.align == "justify" and len(glyphs) > 1:
        spacing += (op.width - natural) / (len(glyphs) - 1)
    x_cursor, y = x, page_height - op.y
    run_face, gids, chars, run_x = None, [], [], x
    for glyph in glyphs:
        if glyph.face is not run_face and gids:
            out.append(_Run(run_x, y, style.size, style.color, spacing, run_face, gids, "".join(chars)))
            gids, chars, run_x = [], [], x_cursor
        run_face = glyph.face
        gids.append(glyph.gid)
        chars.append(glyph.text)
        x_cursor += glyph.advance * style.size / 1000 + spacing
    if gids:
        out.append(_Run(run_x, y, style.size, style.color, spacing, run_face, gids, "".join(chars)))
    return out


def _num(value: float) -> bytes:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return (text if text not in ("-0", "") else "0").encode()


def _rgb(color: tuple[float, float, float]) -> bytes:
    return b" ".join(_num(c) for c in color)


def _content(runs: list, fonts: dict[Face, tuple[str, dict[int, int]]]) -> bytes:
    parts = [b"q"]
    for run in runs:
        if isinstance(run, bytes):
            parts.append(run)
            continue
        name, mapping = fonts[run.face]
        codes = "".join(f"{mapping[gid]:04x}" for gid in run.gids)
        parts.append(b"BT %s rg /%s %s Tf %s Tc 1 0 0 1 %s %s Tm <%s> Tj ET" % (
            _rgb(run.color), name.encode(), _num(run.size), _num(run.spacing), _num(run.x),
            _num(run.y), codes.encode()))
    parts.append(b"Q")
    return b"\n".join(parts)


def _embed_font(pdf: pydyf.PDF, face: Face, glyphs: dict[int, str]):
    """Type0 font over a CIDFont (CFF: CIDFontType0 + FontFile3/OpenType; TrueType: CIDFontType2 + FontFile2)."""
    program, mapping = face.subset(glyphs)
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha1(  # noqa: S324 - a subset tag, not security
        repr(sorted(glyphs)).encode() + face.ps_name.encode()).digest()[:6])
    base_name = f"{tag}+{face.ps_name}"
    if face.outlines == "cff":
        stream = pydyf.Stream([program], pydyf.Dictionary({"Subtype": "/OpenType"}), compress=True)
        file_key, subtype = "FontFile3", "/CIDFontType0"
    else:
        stream = pydyf.Stream([program], pydyf.Dictionary({"Length1": len(program)}), compress=True)
        file_key, subtype = "FontFile2", "/CIDFontType2"
    pdf.add_object(stream)
    widths = {mapping[gid]: round(face.advance(gid), 2) for gid in glyphs}
    widths.setdefault(0, round(face.advance(0), 2))
    descriptor = pydyf.Dictionary({
        "Type": "/FontDescriptor", "FontName": "/" + base_name, "Flags": 4,
        "FontBBox": pydyf.Array(face.bbox), "ItalicAngle": 0,
        "Ascent": round(face.ascent), "Descent": round(face.descent), "CapHeight": round(face.ascent),
        "StemV": 80, file_key: stream.reference})
    pdf.add_object(descriptor)
    w_array = pydyf.Array()
    run: pydyf.Array | None = None
    previous = None
    for code in sorted(widths):
        if previous is None or code != previous + 1:
            run = pydyf.Array()
            w_array.extend([code, run])
        run.append(widths[code])
        previous = code
    cid_font = pydyf.Dictionary({
        "Type": "/Font", "Subtype": subtype, "BaseFont": "/" + base_name,
        "CIDSystemInfo": pydyf.Dictionary({"Registry": pydyf.String("Adobe"), "Ordering": pydyf.String("Identity"),
                                           "Supplement": 0}),
        "FontDescriptor": descriptor.reference, "W": w_array, "DW": 1000})
    if face.outlines == "truetype":
        cid_font["CIDToGIDMap"] = "/Identity"
    pdf.add_object(cid_font)
    to_unicode = pydyf.Stream([_to_unicode_cmap({mapping[gid]: char for gid, char in glyphs.items()})],
                              compress=True)
    pdf.add_object(to_unicode)
    font = pydyf.Dictionary({"Type": "/Font", "Subtype": "/Type0", "BaseFont": "/" + base_name,
                             "Encoding": "/Identity-H", "DescendantFonts": pydyf.Array([cid_font.reference]),
                             "ToUnicode": to_unicode.reference})
    pdf.add_object(font)
    return font.reference, mapping


def _to_unicode_cmap(codes: dict[int, str]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <FFFF>", b"endcodespacerange"]
    items = sorted(codes.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        lines.extend(b"<%04x> <%s>" % (code, char.encode("utf-16-be").hex().encode()) for code, char in chunk)
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


class _HexString(pydyf.Object):
    def __init__(self, value: bytes) -> None:
        super().__init__()
        self.value = value

    @property
    def data(self) -> bytes:
        return b"<" + self.value.hex().encode() + b">"


@functools.cache
def _icc_profile() -> bytes:
    return ICC_PROFILE.read_bytes()


def _pdf_date(moment: datetime) -> str:
    offset = moment.strftime("%z") or "+0000"
    return moment.strftime("D:%Y%m%d%H%M%S") + f"{offset[0]}{offset[1:3]}'{offset[3:5]}'"


def _pdfa_catalog(pdf: pydyf.PDF, metadata: Metadata, attachments: Sequence[Attachment]) -> None:
    profile = pydyf.Stream([_icc_profile()], pydyf.Dictionary({"N": 3}), compress=True)
    pdf.add_object(profile)
    intent = pydyf.Dictionary({
        "Type": "/OutputIntent", "S": "/GTS_PDFA1",
        "OutputConditionIdentifier": pydyf.String("IEC 61966-2-1 Default RGB Colour Space - sRGB"),
        "Info": pydyf.String("IEC 61966-2-1 Default RGB Colour Space - sRGB"),
        "DestOutputProfile": profile.reference})
    pdf.catalog["OutputIntents"] = pydyf.Array([intent])
    pdf.catalog["Lang"] = pydyf.String(metadata.lang)
    created = _pdf_date(metadata.created)
    for key, value in (("Title", metadata.title), ("Author", metadata.author), ("Keywords", metadata.keywords),
                       ("Creator", metadata.creator), ("Producer", metadata.producer), ("Subject", metadata.subject)):
        if value:
            pdf.info[key] = pydyf.String(value)
    pdf.info["CreationDate"] = pydyf.String(created)
    pdf.info["ModDate"] = pydyf.String(created)
    names, specs = pydyf.Array(), pydyf.Array()
    for attachment in attachments:
        embedded = pydyf.Stream([attachment.content], pydyf.Dictionary({
            "Type": "/EmbeddedFile", "Subtype": pydyf.name(attachment.mime).decode(),
            "Params": pydyf.Dictionary({"Size": len(attachment.content), "ModDate": pydyf.String(created),
                                        "CheckSum": _HexString(hashlib.md5(attachment.content).digest())})}),  # noqa: S324
            compress=True)
        pdf.add_object(embedded)
        spec = pydyf.Dictionary({
            "Type": "/Filespec", "F": pydyf.String(attachment.name), "UF": pydyf.String(attachment.name),
            "Desc": pydyf.String(attachment.description), "AFRelationship": "/" + attachment.relationship,
            "EF": pydyf.Dictionary({"F": embedded.reference, "UF": embedded.reference})})
        pdf.add_object(spec)
        names.extend([pydyf.String(attachment.name), spec.reference])
        specs.append(spec.reference)
    if attachments:
        pdf.catalog["Names"] = pydyf.Dictionary({"EmbeddedFiles": pydyf.Dictionary({"Names": names})})
        pdf.catalog["AF"] = specs
    xmp = _xmp(metadata).encode()
    stream = pydyf.Stream([xmp], pydyf.Dictionary({"Type": "/Metadata", "Subtype": "/XML"}), compress=False)
    pdf.add_object(stream)
    pdf.catalog["Metadata"] = stream.reference


def _xmp(metadata: Metadata) -> str:
    """XMP packet: PDF/A-3B identification and the same title, author, keywords, tools and dates as /Info."""
    created = metadata.created.isoformat(timespec="seconds")
    identification = ('<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
                      "<pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>\n"
                      if metadata.pdfa else "")
    description = (f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.subject)}</rdf:li>'
                   "</rdf:Alt></dc:description>" if metadata.subject else "")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f"{identification}"
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.title)}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(metadata.author)}</rdf:li></rdf:Seq></dc:creator>{description}"
        "<dc:format>application/pdf</dc:format></rdf:Description>\n"
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<pdf:Keywords>{escape(metadata.keywords)}</pdf:Keywords>"
        f"<pdf:Producer>{escape(metadata.producer)}</pdf:Producer></rdf:Description>\n"
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreatorTool>{escape(metadata.creator)}</xmp:CreatorTool>"
        f"<xmp:CreateDate>{created}</xmp:CreateDate><xmp:ModifyDate>{created}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{created}</xmp:MetadataDate></rdf:Description>\n"
        "</rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>')
