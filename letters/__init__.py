"""Official letters of a disclosure case as GB/T 9704-2012 PDF/A-3b, rendered from plain data (DESIGN §5).

This package imports nothing else of Gongkai's; the engine and the web layer call exactly this API.
"""

from letters.assets import AssetConfig, FontConfig, default_assets
from letters.catalogue import LETTER_TYPES, LetterSpec
from letters.errors import LetterDataError, LetterRenderError
from letters.outcomes import OUTCOME_FAMILIES
from letters.remedies import build_remedies
from letters.render import RenderedLetter, build_letter_data, render_html, render_letter
from letters.samples import sample_data

__all__ = [
    "LETTER_TYPES", "OUTCOME_FAMILIES", "AssetConfig", "FontConfig", "LetterDataError", "LetterRenderError",
    "LetterSpec", "RenderedLetter", "build_letter_data", "build_remedies", "default_assets", "render_html",
    "render_letter", "sample_data",
]
