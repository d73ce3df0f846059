"""Which glyphs a PDF's text operators show: finds references to .notdef (CID 0), which PDF/A forbids
(ISO 19005-2/-3 §6.2.11.8), in every page and form XObject, through each composite font's encoding CMap."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, NameObject

_CID_CHAR = re.compile(rb"<([0-9a-fA-F]+)>\s+(\d+)")
_CID_RANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s+(\d+)")


def notdef_uses(pdf: bytes) -> list[tuple[int, str]]:
    """(page number, font name) for every shown code of a composite (Type0) font that selects CID 0 (.notdef).

    Simple fonts are not composite and are reported when a shown code has no glyph name or /.notdef in their
    /Differences; the letters and case files here use composite fonts only."""
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for number, page in enumerate(reader.pages, start=1):
        found += [(number, name) for name in _stream_notdefs(page.get_contents(), page.get("/Resources"), reader)]
    return found


def _stream_notdefs(contents, resources, reader, depth: int = 0) -> list[str]:
    if contents is None or resources is None or depth > 8:
        return []
    resources = resources.get_object()
    fonts = resources.get("/Font", DictionaryObject()).get_object()
    found = []
    font = None
    for operands, operator in ContentStream(contents, reader).operations:
        if operator == b"Tf":
            font = fonts[operands[0]].get_object()
        elif operator in (b"Tj", b"'", b'"', b"TJ"):
            strings = operands[-1] if operator == b"TJ" else [operands[-1]]
            for string in strings:
                if isinstance(string, (bytes, str)) and font is not None and _shows_notdef(font, string):
                    found.append(str(font.get("/BaseFont")))
    for xobject in resources.get("/XObject", DictionaryObject()).get_object().values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == NameObject("/Form"):
            found += _stream_notdefs(xobject, xobject.get("/Resources", resources), reader, depth + 1)
    return found


def _shows_notdef(font, string) -> bool:
    data = string.original_bytes if hasattr(string, "original_bytes") else bytes(string, "latin-1")
    if font.get("/Subtype") != "/Type0":
        encoding = font.get("/Encoding")
        encoding = encoding.get_object() if encoding is not None else None
        return _simple_notdef(encoding.get("/Differences", []) if isinstance(encoding, DictionaryObject) else [], data)
    cids = _cid_map(font)
    codes = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
    return any((cids(code) if cids else code) == 0 for code in codes)


def _simple_notdef(differences, data: bytes) -> bool:
    names, code = {}, 0
    for entry in differences:
        if isinstance(entry, int):
            code = entry
        else:
            names[code] = str(entry)
            code += 1
    return any(names.get(byte) == "/.notdef" for byte in data)


def _cid_map(font):
    """code → CID for an embedded encoding CMap; None for Identity-H (the code is the CID)."""
    encoding = font["/Encoding"].get_object()
    if not hasattr(encoding, "get_data"):
        return None
    text = encoding.get_data()
    single = {int(code, 16): int(cid) for code, cid in _CID_CHAR.findall(_section(text, b"cidchar"))}
    ranges = [(int(low, 16), int(high, 16), int(cid)) for low, high, cid in _CID_RANGE.findall(_section(text, b"cidrange"))]

    def lookup(code: int) -> int:
        if code in single:
            return single[code]
        for low, high, cid in ranges:
            if low <= code <= high:
                return cid + code - low
        return 0

    return lookup


def _section(text: bytes, kind: bytes) -> bytes:
    return b"\n".join(re.findall(rb"begin" + kind + rb"(.*?)end" + kind, text, re.DOTALL))


def handmade_pdf(content: bytes, font: bytes = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>") -> bytes:
    """A one-page A4 PDF written byte by byte: `content` drawn with `font` as /F1 (by default Helvetica, not
    embedded — a PDF any scanner or office suite might produce, and not PDF/A)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content), font]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
