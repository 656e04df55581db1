"""Files that hold personal data: owner-only permissions, atomic replacement.

A run's database and `exceptions.csv` hold full citizen numbers, and so does
the case history; the workbooks and the report hold names and disability
data. Everything hecha writes under an out folder is therefore owner-only:
folders 0700, files 0600 (`OWNER_ONLY_UMASK` while a run writes, and an
explicit pass over the published folder, since a umask set by a service
manager could be wider). Handing workbooks to inspectors is a deliberate
copy by the operator, not a permission left open.
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def owner_only() -> None:
    """From now on this process creates files 0600 and folders 0700."""
    os.umask(OWNER_ONLY_UMASK)


def restrict_file(path: Path) -> None:
    """Make an existing file owner-only (a no-op when it does not exist)."""
    try:
        os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass


def restrict_tree(folder: Path) -> None:
    """Make a folder and everything under it owner-only (links are left alone, not followed)."""
    folder = Path(folder)
    os.chmod(folder, DIRECTORY_MODE)
    for root, directories, files in os.walk(folder):
        for name in directories:
            path = Path(root) / name
            if not path.is_symlink():
                os.chmod(path, DIRECTORY_MODE)
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                os.chmod(path, FILE_MODE)


def make_private_dir(folder: Path) -> Path:
    """Create `folder` (and missing parents) owner-only; an existing folder is made owner-only."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    os.chmod(folder, DIRECTORY_MODE)
    return folder


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename: a reader sees the old file or the new one, never half."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
