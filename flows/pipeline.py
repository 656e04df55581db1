"""The stages in one call, without Prefect: for benches and tests.

The nightly flow runs the same stage functions as tasks; this is the plain
sequence (load → normalize → link → checks) on a connection the caller owns,
so quality benches can run many drops without a Prefect server.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import duckdb

from hecha.checks.runner import run_checks
from hecha.config import load_policy
from hecha.extracts.load import load_drop
from hecha.extracts.read import read_manifest
from hecha.flows.run import resolve_as_of
from hecha.matching.link import link_people
from hecha.matching.normalize import normalize_identities
from hecha.matching.probabilistic import Thresholds
from hecha.storage.secret import SECRET_BYTES, has_keyed_hash, install_keyed_hash


def link_thresholds(policy: dict) -> Thresholds:
    """The identity thresholds of `policy.yaml`, in the form the linker takes."""
    return Thresholds(link=policy["identity"]["link_threshold"], review=policy["identity"]["review_threshold"])


def link_drop(con: duckdb.DuckDBPyConnection, drop: Path, as_of: str | None = None,
              decisions: list[tuple[str, str, str, str]] = (), secret: bytes | None = None) -> dict:
    """Load, normalize and link `drop` into `con` (with inspectors' link `decisions`); return the stages' counts.

    Person ids and case keys are keyed with `secret`; without one, with the
    secret already installed on `con`, else a random one for this connection
    (its ids then mean nothing outside it: enough for a bench, not for a case history).
    """
    if secret is not None:
        install_keyed_hash(con, secret)
    elif not has_keyed_hash(con):
        install_keyed_hash(con, secrets.token_bytes(SECRET_BYTES))
    manifest = read_manifest(drop)
    resolve_as_of(manifest, as_of)  # a drop without a known as_of is refused here as in a full run
    return {
        "files": load_drop(con, drop, manifest),
        "id_number_status": normalize_identities(con),
        "links": link_people(con, thresholds=link_thresholds(load_policy()), decisions=decisions),
    }


def analyse_drop(con: duckdb.DuckDBPyConnection, drop: Path, as_of: str | None = None, codes: list[str] | None = None,
                 secret: bytes | None = None) -> dict:
    """Load, normalize, link and check `drop` into `con` (keyed with `secret`, as `link_drop` says); return the stages' counts."""
    figures = link_drop(con, drop, as_of, secret=secret)
    month = resolve_as_of(read_manifest(drop), as_of)
    return figures | {"findings": run_checks(con, month, load_policy(), codes)}
