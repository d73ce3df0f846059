"""The renderer the engine's letter services take: `letters.render_letter` with the agency's fonts and seal."""

from __future__ import annotations

from pathlib import Path

import letters
from letters.assets import AssetConfig, FontConfig, default_assets

FONT_ROLES = ("fangsong", "title", "hei", "kai", "song")


def assets_for(agency) -> AssetConfig:
    """Fonts from `agency.settings["fonts"]` (role → file) when set, else the free defaults; the seal if present."""
    base = default_assets()
    configured = (agency.settings or {}).get("fonts") or {}
    fonts = base.fonts
    if configured:
        fonts = FontConfig(**{role: Path(configured[role]) if configured.get(role) else getattr(base.fonts, role)
                              for role in FONT_ROLES})
    seal = Path(agency.seal_image) if agency.seal_image and Path(agency.seal_image).is_file() else None
    return AssetConfig(fonts=fonts, seal_image=seal)


def renderer_for(agency):
    """A callable `(letter_type, data, *, draft=False) -> RenderedLetter` for the engine's services."""
    assets = assets_for(agency)

    def render(letter_type: str, data: dict, *, draft: bool = False):
        return letters.render_letter(letter_type, data, draft=draft, assets=assets)

    return render
