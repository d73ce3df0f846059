"""Web and API settings come from the [web] table of the configuration file."""

from __future__ import annotations

from engine.config import load_settings


def test_the_web_table_of_the_config_file_reaches_the_app_and_proxy_fix_is_applied(tmp_path, monkeypatch, db_url):
    config = tmp_path / "gongkai.toml"
    config.write_text("[web]\nAPI_LOOKUP_LIMIT_PER_MINUTE = 3\nproxy_fix_hops = 1\n", encoding="utf-8")
    monkeypatch.setenv("GONGKAI_CONFIG", str(config))
    load_settings.cache_clear()
    try:
        from webui.app import create_app

        app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "x"})
        assert app.config["API_LOOKUP_LIMIT_PER_MINUTE"] == 3
        assert type(app.wsgi_app).__name__ == "ProxyFix"
    finally:
        load_settings.cache_clear()
