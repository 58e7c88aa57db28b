import os
import subprocess
import sys


def _import_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import community.settings"], env={**clean, **env}, check=False,
        capture_output=True, text=True, timeout=60,
    )


def test_settings_refuse_default_secret_key_with_debug_off():
    result = _import_settings(DEBUG="0")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_settings_accept_default_key_in_debug_and_real_key_in_production():
    assert _import_settings(DEBUG="1").returncode == 0
    assert _import_settings(DEBUG="0", SECRET_KEY="a-real-secret").returncode == 0
