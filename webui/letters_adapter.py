"""The renderer the engine's letter services take: `letters.render_letter` with the agency's fonts and seal."""

from __future__ import annotations

from pathlib import Path

import letters
from engine.services.agency_admin import seal_placeholder_chosen
from letters import wording
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


class LetterWordingCatalogue:
    """The letters package's slots, placeholders and checks, as `engine.services.letter_wording` takes them."""

    letter_types = tuple(letters.LETTER_TYPES)

    def title(self, letter_type: str) -> str:
        return letters.LETTER_TYPES[letter_type].title

    def slot_labels(self, letter_type: str) -> dict[str, str]:
        return {slot.name: slot.label for slot in wording.slots(letter_type)}

    def default_slots(self, letter_type: str) -> dict[str, str]:
        return wording.default_slots(letter_type)

    def placeholder_names(self, letter_type: str) -> list[str]:
        return wording.placeholder_names(letter_type)

    # letters.wording_preview is imported on use: it loads WeasyPrint, which pages that never preview wording
    # should not pay for (as the letters package itself does).
    def check(self, letter_type: str, slots, *, agency) -> dict[str, str]:
        from letters import wording_preview

        return wording_preview.check(letter_type, slots, agency=agency)

    def preview_blocks(self, letter_type: str, slots, *, agency):
        from letters import wording_preview

        return wording_preview.preview_blocks(letter_type, slots, agency=agency)

    def left_out(self, letter_type: str, slots, *, agency) -> dict[str, str]:
        from letters import wording_preview

        return wording_preview.left_out(letter_type, slots, agency=agency)

    def preview_pdf(self, letter_type: str, slots, *, agency, assets):
        from letters import wording_preview

        return wording_preview.preview_pdf(letter_type, slots, agency=agency, assets=assets)


WORDING_CATALOGUE = LetterWordingCatalogue()
