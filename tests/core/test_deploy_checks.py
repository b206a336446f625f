"""`manage.py check --deploy` under production settings (DEBUG off, a secret key, the site on HTTPS)
finds nothing but the explained allow-list."""

import re
import subprocess
import sys

# Allowed, and why:
ALLOWED = {
    # HSTS for subdomains is off by default: the ministry's domain has other sites (not ours to
    # commit to HTTPS); SECURE_HSTS_INCLUDE_SUBDOMAINS=true turns it on.
    "security.W005",
    # The browsers' HSTS preload list needs the subdomains too, and is hard to leave: a decision of
    # the ministry (SECURE_HSTS_PRELOAD=true), not a default.
    "security.W021",
}


def test_deploy_checks_are_clean_under_production_settings(tmp_path, settings):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "k7Gq2vN9xRw4TzPb8LmY3sHc6JdF1aQe5UoVi0XnKt-ZrWg_Bp",
        "SITE_URL": "https://attestation.mintrud.example",
        "ALLOWED_HOSTS": "attestation.mintrud.example",
        "CSRF_TRUSTED_ORIGINS": "https://attestation.mintrud.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    found = set(re.findall(r"\(([a-z_]+\.[WE]\d+)\)", result.stdout + result.stderr))
    assert result.returncode == 0, result.stderr
    assert found <= ALLOWED, result.stdout + result.stderr
