"""The working folder (``var/``, or VAR_DIR): what the processes of the product write there.

Importing the settings writes nothing (a type checker or a one-off script may import them). The
processes that run the product prepare the folder first: ``manage.py`` (so ``make run``, which
migrates before it serves), the ASGI and WSGI applications, and ``python -m config.workdir``. The
settings take their paths from here, so both sides agree."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")


def static_root() -> Path:
    return Path(os.environ.get("STATIC_ROOT") or var_dir() / "static")


def secret_key_path() -> Path:
    """The embedded mode's SECRET_KEY (without a SECRET_KEY in the environment)."""
    return var_dir() / "secret_key"


def celery_folders() -> tuple[Path, Path]:
    """The queue and control folders of the embedded mode's file-system Celery broker."""
    return var_dir() / "celery" / "queue", var_dir() / "celery" / "control"


def prepare() -> None:
    """Create the working folder, the static root (WhiteNoise reads it at start), the broker's
    folders and, without SECRET_KEY in the environment, a random key kept for the next starts."""
    for folder in (var_dir(), static_root(), *celery_folders()):
        folder.mkdir(parents=True, exist_ok=True)
    path = secret_key_path()
    if os.environ.get("SECRET_KEY") or path.exists():
        return
    # Written aside and linked into place: of processes starting together (migrate and
    # collectstatic), one key wins and nobody reads a half-written file.
    draft = path.with_name(f"{path.name}.{os.getpid()}")
    draft.write_text(secrets.token_urlsafe(50))
    draft.chmod(0o600)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


if __name__ == "__main__":
    prepare()
