"""The renderer's URL fetcher serves bundled assets and configured files only, and refuses all else."""

from __future__ import annotations

import pytest

from letters.assets import ASSETS_DIR
from letters.fetcher import AssetFetcher, RefusedFetch


@pytest.fixture
def font_file(tmp_path):
    path = tmp_path / "fonts" / "Agency-FangSong.otf"
    path.parent.mkdir()
    path.write_bytes(b"OTTO fake font bytes")
    return path


@pytest.fixture
def fetcher(font_file):
    return AssetFetcher(frozenset({font_file}))


def test_a_bundled_asset_is_served(fetcher):
    response = fetcher.fetch((ASSETS_DIR / "letter.css").as_uri())
    assert b"GB/T 9704" in response.read()
    assert response.content_type == "text/css"


def test_a_configured_font_file_is_served(fetcher, font_file):
    assert fetcher.fetch(font_file.as_uri()).read() == b"OTTO fake font bytes"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/seal.png",
    "https://example.org/font.otf",
    "ftp://example.org/font.otf",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:text/css,body{}",
    "file:///etc/passwd",
    "file://remote-host/share/font.otf",
])
def test_anything_but_an_allowed_local_file_is_refused(fetcher, url):
    with pytest.raises(RefusedFetch, match="拒绝加载"):
        fetcher.fetch(url)


def test_a_file_next_to_a_configured_font_is_refused(fetcher, font_file):
    sibling = font_file.with_name("secret.txt")
    sibling.write_text("secret")
    with pytest.raises(RefusedFetch):
        fetcher.fetch(sibling.as_uri())


def test_a_dot_dot_path_out_of_the_assets_is_refused(fetcher):
    with pytest.raises(RefusedFetch, match=r"\.\."):
        fetcher.fetch(ASSETS_DIR.as_uri() + "/../render.py")


def test_an_encoded_dot_dot_path_is_refused(fetcher):
    with pytest.raises(RefusedFetch):
        fetcher.fetch(ASSETS_DIR.as_uri() + "/%2e%2e/%2e%2e/pyproject.toml")


def test_a_symlink_escaping_the_allowed_files_is_refused(tmp_path, font_file):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "letter.css").write_text("body {}")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (assets / "escape.css").symlink_to(outside)
    fetcher = AssetFetcher(frozenset({font_file}), assets_dir=assets)
    assert fetcher.fetch((assets / "letter.css").as_uri()).read() == b"body {}"
    with pytest.raises(RefusedFetch):
        fetcher.fetch((assets / "escape.css").as_uri())


def test_a_missing_asset_is_refused(fetcher):
    with pytest.raises(RefusedFetch):
        fetcher.fetch((ASSETS_DIR / "missing.css").as_uri())


def test_a_query_string_on_a_file_url_is_refused(fetcher, font_file):
    with pytest.raises(RefusedFetch):
        fetcher.fetch(font_file.as_uri() + "?x=1")
