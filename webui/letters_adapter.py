"""The renderer the engine's letter services take: `letters.render_letter` with the agency's fonts and seal, signing
with the agency's key when the engine hands one over (the signer is the one replaceable component: see README)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import letters
from engine.config import load_settings
from engine.services.agency_admin import seal_placeholder_chosen
from letters import wording
from letters.assets import FONT_ROLES, AssetConfig, FontConfig, default_assets

# The signature caption's font when the agency configured no 楷体 file: Debian's fonts-lxgw-wenkai.
FALLBACK_CAPTION_FONT = Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")


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


def signer_for(signing, assets: AssetConfig):
    """The PAdES signer for one letter from the engine's `SigningRequest` (key material decrypted for this call).

    An agency using an official electronic seal system (SM2, GB/T 38540) would return its client here instead:
    anything called as `signer(pdf, seal_box, title=…) -> signed pdf` fits `letters.render_letter`."""
    from letters.signing import PadesSigner, SignatureAppearance, SigningIdentity

    candidates = (assets.fonts.kai, FALLBACK_CAPTION_FONT, assets.fonts.fangsong)
    font = next((path for path in candidates if path is not None and Path(path).is_file()), FALLBACK_CAPTION_FONT)
    identity = SigningIdentity(private_key_der=signing.private_key_der, certificate_der=signing.certificate_der,
                               chain_der=tuple(signing.chain_der))
    seal = assets.seal_image if assets.seal_image is not None and Path(assets.seal_image).is_file() else None
    appearance = SignatureAppearance(agency_name=signing.agency_name, signer_role=signing.signer_role,
                                     signed_on=signing.signed_on, font_file=Path(font), seal_image=seal)
    return PadesSigner(identity, appearance)


class AgencyRenderer:
    """A callable `(letter_type, data, *, draft=False, signing=None) -> RenderedLetter` for the engine's services,
    which also tells beforehand what an issued letter would lack (`issue_problems`), for the sign page."""

    def __init__(self, assets: AssetConfig | Callable[[], AssetConfig]) -> None:
        self._assets = assets

    @property
    def assets(self) -> AssetConfig:
        """The fonts and seal, looked up on first use: an action that only fixes a letter to render later (an API
        registration's receipt) never needs them, nor the agency's seal image."""
        if callable(self._assets):
            self._assets = self._assets()
        return self._assets

    def __call__(self, letter_type: str, data: dict, *, draft: bool = False, signing=None):
        signer = signer_for(signing, self.assets) if signing is not None else None
        return letters.render_letter(letter_type, data, draft=draft, assets=self.assets, signer=signer)

    def issue_problems(self) -> list[str]:
        return letters.issue_problems(self.assets)

    def prepare(self, letter_type: str, data: dict) -> tuple[str, dict]:
        """What rendering would fix, without rendering (and without loading WeasyPrint): the data checked as
        `letters.render_letter` checks it, the template version and the data snapshot; a numbered letter is
        refused here, as it would be there, when a font or the seal is missing."""
        from letters import fields

        spec = letters.LETTER_TYPES.get(letter_type)
        if spec is None:
            raise letters.LetterDataError("letter_type", f"未知的文书类型：{letter_type}")
        letter = fields.build(spec.data_class, data)
        if letter_type != "receipt" and not letter.doc_number:
            raise letters.LetterDataError("doc_number", "字段 doc_number 缺失（正式文书须有文号）")
        if letter.doc_number:
            problems = self.issue_problems()
            if problems:
                raise letters.LetterRenderError("带文号的正式文书不能使用替代字体或缺少印章出具：" + "；".join(problems)
                                                + "。预览（样稿）不受影响")
        return spec.version, fields.dump(letter)


def render_with(assets: AssetConfig) -> AgencyRenderer:
    """The engine-facing renderer for these assets (tests and benchmarks use the default ones)."""
    return AgencyRenderer(assets)


def renderer_for(agency) -> AgencyRenderer:
    """The engine-facing renderer for `agency`: its fonts, seal and (when the engine passes it) signing key."""
    return AgencyRenderer(lambda: assets_for(agency))


def render_pending(session, letter_id: int) -> bool:
    """Render and freeze a letter issued to be rendered after the commit, with the renderer every channel passes
    (the `render_letter` job, and the counter's registration page right after its commit)."""
    from engine.services.issuing import render_pending_letter

    return render_pending_letter(session, letter_id, renderer_for)


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
