"""The deployment secret, and the keyed hash that makes case keys and person ids one-way.

A workbook shows a citizen number's first 6 and last 4 characters; the 8
hidden ones are a birth date, some 46,000 guesses. Were person ids and case
keys a plain hash of the number, anyone holding a workbook could hash every
guess and recover every full number. Keyed with a secret only the deployment
holds (HMAC-SHA256), they stay stable night after night and cannot be
checked against guesses.

What belongs here: where the secret lives (`<out>/.hecha/secret.key`, or the
file `HECHA_SECRET_FILE` names), creating it once, and the one definition of
the macros built on it — `keyed_hash`, `case_key`, `person_id_of` — created
TEMP on a DuckDB connection, so the secret is never written to a database
file. What does not: which subjects are hashed (check SQL, matching/link.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

import duckdb

SECRET_FILE_ENV = "HECHA_SECRET_FILE"
SECRET_FOLDER = ".hecha"
SECRET_FILE = "secret.key"
SECRET_BYTES = 32
SECRET_TEXT = re.compile(rf"[0-9a-f]{{{SECRET_BYTES * 2}}}")
MIN_SECRET_BYTES = 16  # a shorter key could itself be guessed
CAMPAIGNS_FOLDER = "campaigns"  # a campaign's out folder is <out>/campaigns/<name>
HMAC_BLOCK_BYTES = 64  # SHA-256's block: HMAC pads the key to it, or hashes a longer key first
KEYED_MACROS = ("keyed_hash", "case_key", "person_id_of")

# A finding's identity across runs: the check and its subject, never row
# numbers or run ids, so the same problem keeps its key night after night.
CASE_KEY_MACRO = """
create or replace temp macro case_key(check_code, subject) as
    substr(keyed_hash(check_code || '|' || subject), 1, 16)
"""
# A person's id comes from the number alone: stable across runs, and no join to find it.
PERSON_ID_MACRO = """
create or replace temp macro person_id_of(id_number) as
    'P' || substr(keyed_hash('person|' || id_number), 1, 15)
"""


class SecretMissing(RuntimeError):
    """Person ids or case keys asked of a connection the deployment secret was not installed on."""


def secret_root(out: Path) -> Path:
    """The out folder whose secret `out` uses: a campaign (`<x>/campaigns/<name>`) shares its parent's, so case keys agree."""
    out = Path(out)
    return out.parent.parent if out.parent.name == CAMPAIGNS_FOLDER else out


def secret_path(root: Path) -> Path:
    """The secret's file: `HECHA_SECRET_FILE` when set, else `<root>/.hecha/secret.key`."""
    override = os.environ.get(SECRET_FILE_ENV)
    return Path(override) if override else Path(root) / SECRET_FOLDER / SECRET_FILE


def load_or_create_secret(root: Path) -> bytes:
    """The deployment's secret, created on first use: 32 random bytes kept as hex in an owner-only file."""
    path = secret_path(root)
    if not path.exists():
        create_secret_file(path)
    return read_secret_file(path)


def create_secret_file(path: Path) -> None:
    """Write a new secret to `path` unless another process already has.

    The secret goes to a temporary file created owner-only (O_EXCL, 0600: no
    moment when others may read it), then is hard-linked to its name. Linking
    refuses an existing name, so of two racing processes one wins and the
    other reads the winner's file, never a half-written one.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode passes through the umask, which may be odd
    temporary = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_bytes(SECRET_BYTES).hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: its secret is the deployment's
    finally:
        temporary.unlink(missing_ok=True)


def read_secret_file(path: Path) -> bytes:
    """The secret in `path`; anything but 64 hex characters is refused (without echoing the file)."""
    text = path.read_bytes().decode("ascii", errors="replace").strip().lower()
    if not SECRET_TEXT.fullmatch(text):
        raise ValueError(
            f"{path}: expected the deployment secret, {SECRET_BYTES * 2} hexadecimal characters, "
            f"found {len(text)} characters that are not that. Restore the file from backup "
            "(case keys and person ids depend on it); delete it only to start a new case history."
        )
    return bytes.fromhex(text)


def install_keyed_hash(con: duckdb.DuckDBPyConnection, secret: bytes) -> None:
    """Create TEMP macros on `con`: `keyed_hash(text)` (hex HMAC-SHA256 under `secret`), `case_key`, `person_id_of`.

    HMAC as RFC 2104 writes it, in SQL: sha256(outer key || sha256(inner key
    || text)), the keys being the secret padded to 64 bytes XOR 0x5c / 0x36.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the secret must be at least {MIN_SECRET_BYTES} bytes, got {len(secret)}")
    key = hashlib.sha256(secret).digest() if len(secret) > HMAC_BLOCK_BYTES else secret
    key = key.ljust(HMAC_BLOCK_BYTES, b"\0")
    inner = bytes(byte ^ 0x36 for byte in key).hex()
    outer = bytes(byte ^ 0x5C for byte in key).hex()
    con.execute(
        "create or replace temp macro keyed_hash(text) as "
        f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(text))))"
    )
    con.execute(CASE_KEY_MACRO)
    con.execute(PERSON_ID_MACRO)


def has_keyed_hash(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `install_keyed_hash` ran on this connection."""
    installed = {
        name
        for (name,) in con.execute(
            "select function_name from duckdb_functions() where database_name = 'temp' and function_name in ?",
            [list(KEYED_MACROS)],
        ).fetchall()
    }
    return installed == set(KEYED_MACROS)


def require_keyed_hash(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse to go on without the secret: person ids and case keys would be unkeyed, or missing halfway through."""
    if not has_keyed_hash(con):
        raise SecretMissing(
            "the deployment secret is not installed on this DuckDB connection, so person ids and case keys "
            "cannot be computed: call storage.secret.install_keyed_hash(con, load_or_create_secret(secret_root(out))) first"
        )
