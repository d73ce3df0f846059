"""Uploaded PDFs rewritten as PDF/A by Ghostscript (Debian `ghostscript`) before they go into 案卷.pdf.

An upload can be any PDF: fonts not embedded, device colour without an output intent, JavaScript, .notdef.
Its pages copied as they are would make a false PDF/A claim of the whole case file. Ghostscript's pdfwrite
re-emits them with fonts embedded and colour converted to RGB (PDFACompatibilityPolicy=1 drops what PDF/A
forbids, such as scripts, rather than giving up); what it cannot convert is reported, and the case file then
stops declaring conformance (`letters.casefile`). The originals themselves stay byte for byte in the package.

Ghostscript runs in SAFER mode (no file access beyond its input and output) in a temporary folder, one run for
all the uploads of a case (its start-up dominates the time for small scans), each upload alone only if that fails.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Conversion:
    """One upload's pages as PDF/A (`pdf`), or why they could not be converted (`problem`, in Chinese)."""

    pdf: bytes | None
    problem: str = ""


def ghostscript() -> str | None:
    """The Ghostscript executable: $GONGKAI_GHOSTSCRIPT, else `gs` on the PATH; None when there is none."""
    configured = os.environ.get("GONGKAI_GHOSTSCRIPT") or "gs"
    return shutil.which(configured)


def convert_to_pdfa(pdfs: Sequence[bytes]) -> list[Conversion]:
    """Each PDF rewritten as PDF/A-3b, in order, with the same number of pages."""
    if not pdfs:
        return []
    executable = ghostscript()
    if executable is None:
        return [Conversion(None, "本机未安装 Ghostscript（Debian 软件包 ghostscript），未能转换为 PDF/A")] * len(pdfs)
    try:
        return [Conversion(pdf) for pdf in _run(executable, pdfs)]
    except _Failed as failure:
        if len(pdfs) == 1:
            return [Conversion(None, str(failure))]
    conversions = []
    for pdf in pdfs:  # find the one(s) Ghostscript cannot convert
        try:
            conversions.append(Conversion(_run(executable, [pdf])[0]))
        except _Failed as failure:
            conversions.append(Conversion(None, str(failure)))
    return conversions


class _Failed(Exception):
    pass


def _run(executable: str, pdfs: Sequence[bytes]) -> list[bytes]:
    """One Ghostscript run over all `pdfs`, its output split back into one PDF per input by page counts."""
    counts = [len(PdfReader(io.BytesIO(pdf)).pages) for pdf in pdfs]
    with tempfile.TemporaryDirectory(prefix="gongkai-pdfa-") as folder:
        inputs = []
        for n, pdf in enumerate(pdfs):
            path = Path(folder) / f"in-{n}.pdf"
            path.write_bytes(pdf)
            inputs.append(str(path))
        output = Path(folder) / "out.pdf"
        command = [executable, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-dPDFA=3",
                   "-dPDFACompatibilityPolicy=1", "-sColorConversionStrategy=RGB", "-dAutoRotatePages=/None",
                   f"-sOutputFile={output}", *inputs]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False, cwd=folder,
                                  env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
        except subprocess.TimeoutExpired:
            raise _Failed(f"Ghostscript 转换超时（{TIMEOUT_SECONDS} 秒），未能转换为 PDF/A") from None
        if done.returncode != 0 or not output.is_file():
            detail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
            raise _Failed("Ghostscript 未能转换为 PDF/A" + (f"：{detail[-1][:120]}" if detail else ""))
        try:
            reader = PdfReader(io.BytesIO(output.read_bytes()))
            xmp = reader.xmp_metadata
            claimed = xmp is not None and xmp.pdfaid_part is not None
            if not claimed or len(reader.pages) != sum(counts):
                raise _Failed("Ghostscript 的输出不是页数相同的 PDF/A")
            return _split(reader, counts)
        except PyPdfError as error:
            raise _Failed(f"Ghostscript 的输出无法读取：{error}") from error


def _split(reader: PdfReader, counts: Sequence[int]) -> list[bytes]:
    parts, start = [], 0
    for count in counts:
        writer = PdfWriter()
        for page in reader.pages[start:start + count]:
            writer.add_page(page)
        start += count
        out = io.BytesIO()
        writer.write(out)
        parts.append(out.getvalue())
    return parts
