"""The renderer the engine's letter services take: `letters.render_letter` with the agency's fonts and seal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import letters
from engine.config import load_settings
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
    seal = seal_file(agency) if not placeholder else None
    return AssetConfig(fonts=fonts, seal_image=seal, seal_placeholder=placeholder)


def seal_file(agency) -> Path | None:
    """The agency's seal (kept in the database) as a file the renderer's fetcher may read: a cache named by the
    image's SHA-256 under var/, rewritten whenever it is missing or does not match."""
    data = agency.seal_image_data
    if not data:
        return None
    digest = hashlib.sha256(data).hexdigest()
    suffix = "png" if data.startswith(b"\x89PNG") else "jpg"
    path = load_settings().var_dir / "seal-cache" / f"{digest}.{suffix}"
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


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
