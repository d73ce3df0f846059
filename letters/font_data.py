"""WeasyPrint copies a font's whole file only when something reads the copy.

For every document it writes, WeasyPrint 70 builds one `weasyprint.pdf.fonts.Font` per face the text uses, and its
constructor copies the face's whole file into a Python bytes object (`get_hb_object_data(hb_face)`). With HarfBuzz's
subsetter, the path WeasyPrint takes since version 63, that copy is never read: `_harfbuzz_subset` subsets the face
itself and replaces the copy by the subset's bytes. A letter is set in CJK faces of 4 to 27 MB (the Fandol faces,
Noto Serif CJK's bold collection for the title), so a one-page receipt copied tens of megabytes and spent about a
third of its rendering doing it (py-spy: `FFI.unpack` under `Font.__init__`, 31 % of a warm receipt).

`install()` makes the copy lazy: the module's `get_hb_object_data`, called with a face alone, returns a `FaceData`
that holds the face (which keeps it alive) and copies its bytes the first time `Font.file_content` is read — by
fontTools' subsetter (without HarfBuzz-Subset), a variable font's instancer, the colour-glyph path, or the font stream
of a font that could not be subset. Every read goes through the property, so each of those paths sees the same bytes
as before; only an unread copy is not made. The PDF is byte for byte the one WeasyPrint writes without this
(`tests/integration/test_font_data.py` compares them).

The class WeasyPrint defines is patched, so the patch checks the shape it relies on and leaves WeasyPrint alone if a
version has changed it (`installed()` says whether it took).
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


class FaceData:
    """The bytes of a HarfBuzz face's file, not copied yet. Holds the face (a cffi object whose finalizer releases it),
    so the face lives until the bytes are copied or no longer wanted."""

    __slots__ = ("_face", "_copy", "_length")

    def __init__(self, face, copy, length) -> None:
        self._face, self._copy, self._length = face, copy, length

    def __bool__(self) -> bool:
        """What the copy's truth value would be (None or b"" are false), without copying: the blob's length."""
        return self._length(self._face) > 0

    def bytes(self) -> bytes | None:
        return self._copy(self._face)


def installed() -> bool:
    return _installed


def install() -> bool:
    """Make `weasyprint.pdf.fonts.Font.file_content` lazy (once per process); whether it is."""
    global _installed
    with _lock:
        if _installed:
            return True
        try:
            from weasyprint.pdf import fonts as pdf_fonts
            from weasyprint.text.ffi import ffi, harfbuzz
        except ImportError:  # pragma: no cover - WeasyPrint is a dependency of the letters package
            return False
        copy = getattr(pdf_fonts, "get_hb_object_data", None)
        font = getattr(pdf_fonts, "Font", None)
        if copy is None or font is None or "file_content" in vars(font) or hasattr(font, "__slots__"):
            return False  # not the shape this patch was written for: WeasyPrint copies as it always did

        def blob_length(face) -> int:
            blob = harfbuzz.hb_face_reference_blob(face)
            try:
                return 0 if harfbuzz.hb_blob_get_data(blob, ffi.NULL) == ffi.NULL else \
                    harfbuzz.hb_blob_get_length(blob)
            finally:
                harfbuzz.hb_blob_destroy(blob)

        def lazy_data(hb_object, ot_color=None, glyph=None):
            if ot_color is None and glyph is None:
                return FaceData(hb_object, copy, blob_length)
            return copy(hb_object, ot_color, glyph)

        def read(self):
            value = self.__dict__.get("_file_content")
            if isinstance(value, FaceData):
                value = self.__dict__["_file_content"] = value.bytes()
            return value

        def write(self, value) -> None:
            self.__dict__["_file_content"] = value

        font.file_content = property(read, write, doc="The face's file (or its subset), copied when first read.")
        pdf_fonts.get_hb_object_data = lazy_data
        _installed = True
        return True
