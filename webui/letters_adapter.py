"""The renderer the engine's letter services take: `letters.render_letter` with the agency's fonts and seal."""

from __future__ import annotations

from pathlib import Path

import letters
from engine.services.agency_admin import seal_placeholder_chosen
from letters.assets import FONT_ROLES, AssetConfig, FontConfig, default_assets


def assets_for(agency) -> AssetConfig:
    """Fonts from `agency.settings["fonts"]` (role → file) when set, else the free defaults; the seal: the image,
    or the “（印章）” placeholder when the agency seals by hand. Missing files stay named: an issued letter is then
    refused, naming them, and a preview falls back."""
    base = default_assets()
    configured = (agency.settings or {}).get("fonts") or {}
    fonts = base.fonts
    if configured:
        fonts = FontConfig(**{role: Path(configured[role]) if configured.get(role) else getattr(base.fonts, role)
                              for role in FONT_ROLES})
    placeholder = seal_placeholder_chosen(agency)
    seal = Path(agency.seal_image) if agency.seal_image and not placeholder else None
    return AssetConfig(fonts=fonts, seal_image=seal, seal_placeholder=placeholder)


class AgencyRenderer:
    """A callable `(letter_type, data, *, draft=False) -> RenderedLetter` for the engine's services, which also
    tells beforehand what an issued letter would lack (`issue_problems`), for the sign page."""

    def __init__(self, assets: AssetConfig) -> None:
        self.assets = assets

    def __call__(self, letter_type: str, data: dict, *, draft: bool = False):
        return letters.render_letter(letter_type, data, draft=draft, assets=self.assets)

    def issue_problems(self) -> list[str]:
        return letters.issue_problems(self.assets)


def renderer_for(agency) -> AgencyRenderer:
    return AgencyRenderer(assets_for(agency))
