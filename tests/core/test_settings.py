"""Importing the settings writes nothing (a type checker imports them too); the processes that run
the product prepare the working folder, whose secret key then lasts from one start to the next."""

import subprocess
import sys

import pytest

IMPORT_SETTINGS = "import django; from django.conf import settings; print(settings.SECRET_KEY)"


def _python(code: str, *, var_dir, settings, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )


def test_importing_the_settings_creates_no_folder_and_no_file(tmp_path, settings):
    result = _python(IMPORT_SETTINGS, var_dir=tmp_path / "var", settings=settings, SECRET_KEY="s" * 50)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()


def test_without_a_secret_key_the_settings_say_how_to_get_one(tmp_path, settings):
    result = _python(IMPORT_SETTINGS, var_dir=tmp_path / "var", settings=settings)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "var").exists()


def test_the_prepared_working_folder_keeps_one_secret_key_across_starts(tmp_path, settings):
    prepare = "from config.workdir import prepare; prepare()"
    for _ in range(2):
        assert _python(prepare, var_dir=tmp_path / "var", settings=settings).returncode == 0
    first = _python(IMPORT_SETTINGS, var_dir=tmp_path / "var", settings=settings)
    again = _python(IMPORT_SETTINGS, var_dir=tmp_path / "var", settings=settings)
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout == (tmp_path / "var" / "secret_key").read_text() + "\n"
    assert (tmp_path / "var" / "celery" / "queue").is_dir() and (tmp_path / "var" / "static").is_dir()


@pytest.mark.parametrize("name", ["APPLICATION_NUMBER_FORMAT", "CERTIFICATE_NUMBER_FORMAT", "APPEAL_NUMBER_FORMAT"])
def test_a_number_format_with_another_field_stops_the_start(name, tmp_path, settings):
    result = _python(
        IMPORT_SETTINGS, var_dir=tmp_path, settings=settings, SECRET_KEY="s" * 50, **{name: "{seq}-{month}"}
    )
    assert result.returncode != 0 and f"{name} must use only {{year}} and {{seq}}" in result.stderr


@pytest.mark.parametrize(("value", "ok"), [("2027-03-01", True), ("01.03.2027", False)])
def test_the_registry_key_expiry_must_be_a_date(tmp_path, settings, value, ok):
    result = _python(
        IMPORT_SETTINGS, var_dir=tmp_path, settings=settings, SECRET_KEY="s" * 50, REGISTRY_SIGNING_KEY_EXPIRES=value
    )
    assert (result.returncode == 0) is ok, result.stderr
    assert ok or "REGISTRY_SIGNING_KEY_EXPIRES must be a date" in result.stderr
