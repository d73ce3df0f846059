"""The only door through which WeasyPrint may read anything: bundled assets, configured fonts and seal."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from letters.assets import ASSETS_DIR


class RefusedFetch(FatalURLFetchingError):
    """A resource outside the allowed set was requested; WeasyPrint lets this stop the render."""


class AssetFetcher(URLFetcher):
    """Serves `file:` URLs of the bundled assets and of `allowed_files` (real paths); refuses all else."""

    def __init__(self, allowed_files: frozenset[Path], assets_dir: Path = ASSETS_DIR) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self.assets_dir = assets_dir.resolve()
        self.allowed_files = frozenset(path.resolve() for path in allowed_files)

    def resolve(self, url: str) -> Path:
        """The real path `url` names, if it may be read; RefusedFetch otherwise."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            raise RefusedFetch(f"拒绝加载外部资源：{url[:200]}（只允许本系统自带的字体、样式和印章）")
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise RefusedFetch(f"拒绝加载资源：{url[:200]}")
        raw_path = url2pathname(unquote(parts.path))
        if ".." in Path(raw_path).parts:
            raise RefusedFetch(f"拒绝加载资源：{url[:200]}（路径含“..”）")
        # Resolving follows symlinks, so a link inside the assets folder that points outside is refused too.
        real = Path(raw_path).resolve()
        if real in self.allowed_files or (real.is_relative_to(self.assets_dir) and real.is_file()):
            return real
        raise RefusedFetch(f"拒绝加载资源：{url[:200]}（不在允许的字体、样式和印章文件之列）")

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        real = self.resolve(url)
        mime_type = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
        return URLFetcherResponse(real.as_uri(), real.read_bytes(), {"Content-Type": mime_type})
