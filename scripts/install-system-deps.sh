#!/usr/bin/env bash
# Installs the Debian packages Gongkai needs (fonts, HarfBuzz subsetter, poppler, Ghostscript for PDF/A
# conversion of uploaded PDFs in 案卷.pdf, chromium for browser tests) and extracts the free FangSong font (FandolFang) from texlive-lang-chinese without installing
# all of TeX Live. Idempotent: does nothing when everything is already there.
# Usage: scripts/install-system-deps.sh [--with-browser] [--with-libreoffice]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fontdir="$here/var/fonts"

with_browser=0
pkgs=(fonts-noto-cjk fonts-noto-cjk-extra fonts-lxgw-wenkai libharfbuzz-subset0 libpango-1.0-0
      libpangoft2-1.0-0 poppler-utils fontconfig ghostscript)
for arg in "$@"; do
  case "$arg" in
    --with-browser) pkgs+=(chromium) ; with_browser=1 ;;
    --with-libreoffice) pkgs+=(libreoffice-writer) ;;
  esac
done

# axe-core for the accessibility checks of the browser tests, from the npm registry (tests/browser/package.json).
if [ $with_browser -eq 1 ] && [ ! -f "$here/tests/browser/node_modules/axe-core/axe.min.js" ]; then
  if command -v npm >/dev/null; then
    npm ci --prefix "$here/tests/browser" --no-audit --no-fund --silent || echo "未能安装 axe-core（npm）" >&2
  else
    echo "未找到 npm：无障碍检查（axe-core）将跳过" >&2
  fi
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

need_fandol=0
[ -f "$fontdir/FandolFang-Regular.otf" ] || need_fandol=1

if [ ${#missing[@]} -eq 0 ] && [ $need_fandol -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "缺少系统软件包：${missing[*]:-} ${need_fandol:+(FandolFang 字体)}" >&2
  echo "请以 root 运行：sudo $0 $*  （见 README「非 root 用户」一节）" >&2
  exit 1
fi

apt_updated=0
apt_update_once() {
  if [ $apt_updated -eq 0 ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "正在安装系统软件包：${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $need_fandol -eq 1 ]; then
  echo "正在提取 FandolFang 仿宋字体（texlive-lang-chinese）"
  apt_update_once
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq texlive-lang-chinese >/dev/null && dpkg-deb -x texlive-lang-chinese_*.deb x)
  mkdir -p "$fontdir"
  find "$tmp/x" -name 'Fandol*.otf' -exec cp {} "$fontdir/" \;
  rm -rf "$tmp"
  [ -f "$fontdir/FandolFang-Regular.otf" ] || { echo "未能提取 FandolFang 字体" >&2; exit 1; }
fi
