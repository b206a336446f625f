"""The garbage collector of a server process (config/asgi.py): what was loaded at start is out of its
reach, and it collects after the allocations of set thresholds, not Python's default of 700.
Without it, a full collection scanned some 175,000 objects of Django and the apps every 15-30 s
under a sitting's load and held the whole process for 100-190 ms (bench/README.md)."""

import json
import subprocess
import sys

PROBE = "import gc, json, config.asgi; print(json.dumps([gc.get_freeze_count(), gc.get_threshold()]))"


def server_process(tmp_path, settings, **extra):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )


def test_a_server_process_freezes_what_it_loaded_and_collects_less_often(tmp_path, settings):
    result = server_process(tmp_path, settings)
    assert result.returncode == 0, result.stderr
    frozen, thresholds = json.loads(result.stdout.splitlines()[-1])
    assert frozen > 50_000  # Django, the apps and the URLs, counted in objects
    assert thresholds == [10_000, 20, 20]


def test_the_thresholds_are_a_setting_and_a_wrong_one_stops_the_start(tmp_path, settings):
    result = server_process(tmp_path, settings, GC_THRESHOLDS="20000,10,5")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])[1] == [20_000, 10, 5]

    wrong = server_process(tmp_path, settings, GC_THRESHOLDS="20000,10")
    assert wrong.returncode != 0
    assert "GC_THRESHOLDS" in wrong.stderr
