"""Official letters of a disclosure case as GB/T 9704-2012 PDF/A-3b, rendered from plain data (DESIGN §5).

This package imports nothing else of Gongkai's; the engine and the web layer call exactly this API.
The renderer (WeasyPrint, about 40 MB once imported) loads on first use, so a process that only
exports case files (`letters.casefile`) never pays for it.
"""

from letters.assets import AssetConfig, FontConfig, default_assets, issue_problems
from letters.catalogue import LETTER_TYPES, LetterSpec
from letters.errors import LetterDataError, LetterRenderError
from letters.outcomes import OUTCOME_FAMILIES
from letters.remedies import build_remedies
from letters.samples import sample_data

_LAZY = {"RenderedLetter": "letters.render", "build_letter_data": "letters.render", "render_html": "letters.render",
         "render_letter": "letters.render"}

__all__ = [
    "LETTER_TYPES", "OUTCOME_FAMILIES", "AssetConfig", "FontConfig", "LetterDataError", "LetterRenderError",
    "LetterSpec", "RenderedLetter", "build_letter_data", "build_remedies", "default_assets", "render_html",
    "issue_problems", "render_letter", "sample_data",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'letters' has no attribute {name!r}")
