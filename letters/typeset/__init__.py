"""Fixed-layout pages set straight into PDF: measured text, line breaking, ruled tables, page flow, PDF/A-3b.

The archival case file's generated pages (cover, 卷内目录, registration form, process record, exemption log,
备考表) are forms: rules, boxes and wrapped text in known fonts, the same for every case. Setting them here
instead of through an HTML layout engine is what makes a year's bulk export fast: HarfBuzz measures and
subsets the fonts (a few milliseconds per font), the rest is arithmetic. Coordinates are in points from the
top-left corner of the page.
"""

from letters.typeset.fonts import FontStack, Style, load_face, system_face
from letters.typeset.layout import MM, Cell, Flow, Page, Table
from letters.typeset.linebreak import NO_LINE_END, NO_LINE_START, wrap
from letters.typeset.pdfwriter import Attachment, Metadata, write_pdfa

__all__ = ["MM", "NO_LINE_END", "NO_LINE_START", "Attachment", "Cell", "Flow", "FontStack", "Metadata", "Page",
           "Style", "Table", "load_face", "system_face", "wrap", "write_pdfa"]
