"""Whether tonight's run is incremental, and since which run.

An incremental night loads, validates and links the whole drop as ever, then
checks again only the persons whose rows or links changed since the folder's
last run, with their households and cases, and keeps that run's findings for
everyone else (checks/slice.py): the findings a full run gives. It is a full
rebuild instead when asked (`hecha run --full`), on the folder's first run,
when the last full rebuild is `incremental.full_rebuild_days` old, and
whenever the last run's as_of month, policy or rules (checks/slice.py
`rules_fingerprint`) differ from tonight's — or, found while checking, the
drop's columns do.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hecha.flows.run import DATABASE


def night_mode(out: Path, as_of: dt.date, policy: dict, rules: str, *, full: bool = False,
               now: dt.datetime | None = None) -> dict:
    """`{"kind": "incremental" | "full", "since": run id or None, "reason": why}` for a run publishing to `out`."""
    from hecha.audit.history import published_runs

    if full:
        return {"kind": "full", "since": None, "reason": "asked for (--full)"}
    runs = published_runs(out) if Path(out).is_dir() else []
    records = [(run, json.loads((run / "run.json").read_text(encoding="utf-8"))) for run in runs]
    usable = [(run, record) for run, record in records if (run / DATABASE).exists()]
    if not usable:
        return {"kind": "full", "since": None, "reason": "no earlier run with its database"}
    last, record = usable[-1]
    if record["parameters"].get("as_of") != f"{as_of:%Y-%m}":
        return {"kind": "full", "since": None, "reason": f"the as_of month changed ({record['parameters'].get('as_of')} before)"}
    if record.get("policy") != policy:
        return {"kind": "full", "since": None, "reason": "the policy changed"}
    if record.get("rules_sha256") != rules:
        return {"kind": "full", "since": None, "reason": "the rules changed (code or SQL)"}
    rebuilt = [record for _, record in records if (record.get("mode") or {}).get("kind", "full") == "full"]
    last_full = dt.datetime.fromisoformat(rebuilt[-1]["started_at"]) if rebuilt else None
    now = now or dt.datetime.now(dt.timezone.utc)
    days = policy["incremental"]["full_rebuild_days"]
    if last_full is None or now - last_full >= dt.timedelta(days=days):
        return {"kind": "full", "since": None, "reason": f"the last full rebuild is {days} or more days old"}
    return {"kind": "incremental", "since": last.name, "reason": f"since {last.name}"}
