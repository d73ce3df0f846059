"""The case-file renderer handed to the engine: `letters.casefile` with the agency's (or default) fonts."""

from __future__ import annotations

from engine.services.casefile_package import CaseFileRenderer


def casefile_renderer(assets=None) -> CaseFileRenderer:
    """A renderer `(data, contents, *, manifest) -> RenderedCaseFile` using `assets` (default fonts if None)."""
    from letters import default_assets
    from letters.casefile import render_casefile

    chosen = assets or default_assets()

    def render(data: dict, contents: list[bytes], *, manifest: bytes):
        return render_casefile(data, contents, manifest=manifest, assets=chosen)

    return render


def renderer_for_agency(agency) -> CaseFileRenderer:
    """The renderer with the agency's configured fonts (`settings["fonts"]`), as its letters use."""
    from webui.letters_adapter import assets_for

    return casefile_renderer(assets_for(agency))
