#!/usr/bin/env bash
# The wheel is complete (DESIGN §7): build it, install it with the locked versions into a fresh virtualenv
# outside the checkout, and run `gongkai deadline`, `gongkai db upgrade` (a temporary SQLite) and
# `gongkai letter samples` from a directory that holds nothing of the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
work=$(mktemp -d /tmp/gongkai-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
# setuptools copies into build/ and never removes what was deleted or renamed since (an old migration would
# ship as a second alembic head): build from a clean slate.
rm -rf build
"$UV" build -q --wheel --out-dir "$work/dist" .
wheel=$(ls "$work"/dist/gongkai-*.whl)
"$UV" venv -q -p python3.11 "$work/venv"
"$UV" pip install -q --python "$work/venv/bin/python" -c requirements.lock "$wheel"
# The fonts scripts/install-system-deps.sh extracted (an installation names them with GONGKAI_FONT_DIR).
if [ -z "${GONGKAI_FONT_DIR:-}" ] && [ -d var/fonts ]; then export GONGKAI_FONT_DIR="$PWD/var/fonts"; fi
cd "$work"
export GONGKAI_DATABASE_URL="sqlite:///$work/gongkai.sqlite3"
due=$("$work/venv/bin/gongkai" deadline 2026-03-02 --days 20 | tail -n 1)
test "$due" = "2026-03-30" || { echo "deadline from the wheel: $due, expected 2026-03-30" >&2; exit 1; }
"$work/venv/bin/gongkai" db upgrade
"$work/venv/bin/gongkai" db check
"$work/venv/bin/gongkai" letter samples --out "$work/samples" >/dev/null
count=$(ls "$work"/samples/*.pdf | wc -l)
test "$count" -ge 12 || { echo "letter samples from the wheel: only $count PDFs" >&2; exit 1; }
# Every template and static file the web app serves is inside the package.
"$work/venv/bin/python" - <<'PY'
from webui.app import create_app

app = create_app({"SECRET_KEY": "wheel-check", "TESTING": True})
client = app.test_client()
for path in ("/login", "/static/gongkai.css", "/api/v1/openapi.json", "/api/v1/docs"):
    status = client.get(path).status_code
    assert status == 200, (path, status)
PY
echo "wheel $(basename "$wheel"): deadline $due, migrations, $count letter samples and the web app work outside the checkout"
