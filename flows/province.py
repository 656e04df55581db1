"""The province: one county run per county drop on a Prefect work pool, then the checks that cross county lines.

`county_run` is one county's nightly run (flows/nightly.py's stages, its own
out folder and case history) followed by its export to the shared store
(province/store.py). It is deployed on the work pool `hecha` and executed by
`prefect worker start --pool hecha` processes, on as many machines as there
are; a worker's flow-run process imports this module from the installed
package (no pull steps, no code copied).

`province` finds the county drops, makes sure the pool and the deployment
exist, starts one `county_run` flow run per county at once (the pool's workers
take them as they are free), waits for all of them, then runs the
cross-county stage (province/cross.py) on the counties that published and
publishes the province (province/publish.py) with every county's status: a
failed county stops neither the others nor the cross stage. Prefect is the
only scheduler: nothing here assigns counties to machines.

Every path handed to a worker is absolute, and the drops, the out folder and
the store must be reachable by every worker under that same path (a shared
folder). What does not belong here: what is exported, the cross-county SQL,
the publication's files (province/).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import fsspec
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import WorkerStatus
from prefect.deployments import run_deployment
from prefect.deployments.runner import EntrypointType
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.states import Cancelling

from hecha.config import parse_month
from hecha.extracts.errors import DropError
from hecha.extracts.read import read_manifest
from hecha.flows.nightly import progress_key, run_stages_as_tasks
from hecha.flows.run import DROP_ROOT_ENV, OUT_ROOT_ENV, confine, start_run
from hecha.flows.stages import nightly_stages
from hecha.province.store import ExportError, export_county, read_record

POOL = "hecha"
POOL_TYPE = "process"  # `prefect worker start --pool hecha` creates a process pool too, when it starts first
COUNTIES = "counties"  # <out>/counties/<code>/: each county's own out folder
STORE = "store"  # <out>/store/: the shared store unless another is named
WAIT_SECONDS = 1.0  # how often the county runs' states are read while waiting
EXTRACT_SUFFIXES = (".csv", ".xlsx")
REASON_CHARACTERS = 240  # a county's failure, on one line of a report
COUNTY_CODE = re.compile(r"[0-9]{6}")  # a county's division code
FAILED_RUN_PREFIX = "Flow run encountered an exception: "  # how Prefect opens a failed flow run's state message


@dataclass(frozen=True)
class CountyDrop:
    """A county drop found under the drops root: its folder, county code and as_of month (YYYY-MM)."""

    folder: Path
    county: str
    as_of: str | None


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


# --- a county, on a worker ----------------------------------------------------------------------------------------


@task(name="export_county", cache_policy=NO_CACHE, persist_result=False)
def export_to_store(run_dir: Path, store: str) -> dict:
    return export_county(run_dir, store)


@flow(name="county_run", log_prints=True)
def county_run(drop: str, out: str, store: str, as_of: str | None = None, policy: str | None = None) -> dict:
    """One county's nightly run, published under `out` as `hecha run` would, then exported to `store`.

    Returns what the province needs to know of it: county, run_id, run_dir,
    as_of, seconds, and where it ran (host, process, worker).
    """
    started = time.perf_counter()
    run = start_run(confine(Path(drop), DROP_ROOT_ENV), as_of, confine(Path(out), OUT_ROOT_ENV),
                    policy_file=Path(policy) if policy else None)
    run_dir = run_stages_as_tasks(run, nightly_stages(), progress_key("county", run.manifest.county))
    export_to_store(run_dir, store)
    return {
        "county": run.manifest.county, "run_id": run.run_id, "run_dir": str(run_dir), "as_of": f"{run.as_of:%Y-%m}",
        "seconds": round(time.perf_counter() - started, 3),
        "host": socket.gethostname(), "pid": os.getpid(), "worker": os.environ.get("PREFECT__WORKER_NAME"),
    }


# --- the province ---------------------------------------------------------------------------------------------------


def holds_drop(folder: Path) -> bool:
    """A folder holding a drop: its manifest, or extract files."""
    return (folder / "manifest.yaml").exists() or any(path.suffix.lower() in EXTRACT_SUFFIXES for path in folder.iterdir())


def find_county_drops(drops: Path) -> tuple[list[CountyDrop], list[dict]]:
    """The county drops under `drops` (each subfolder holding a drop), and the counties refused before any run.

    A county is its manifest's `county`, a 6-digit code. A folder whose
    manifest cannot be read, names no county or not a 6-digit one, gives an
    as_of that is no month, names a county another folder holds, or is itself
    named by a code other than its manifest's, is a failed county: named by its
    folder, which is its county's code when it is a free one (else `county` is
    None: the folder is all there is to name it by).
    """
    found: list[CountyDrop] = []
    refused: list[tuple[Path, str]] = []
    for folder in sorted(path for path in Path(drops).iterdir() if path.is_dir() and not path.name.startswith(".")):
        if not holds_drop(folder):
            continue
        try:
            found.append(county_drop(folder, taken={drop.county for drop in found}))
        except DropError as error:
            refused.append((folder, f"{folder.name}/{error}"))
    taken = {drop.county for drop in found}
    statuses = []
    for folder, error in refused:
        code = folder.name if COUNTY_CODE.fullmatch(folder.name) and folder.name not in taken else None
        taken |= {code} - {None}
        statuses.append(county_status(code, "failed", error=error) | {"folder": folder.name})
    return found, statuses


def county_drop(folder: Path, taken: set[str]) -> CountyDrop:
    """The county drop in `folder`, refused (DropError) when its manifest does not name one county no other folder holds."""
    manifest = read_manifest(folder)
    if not manifest.county:
        raise DropError('manifest.yaml names no county (county: "<6-digit code>")', file="manifest.yaml")
    if not COUNTY_CODE.fullmatch(manifest.county):
        raise DropError(f"manifest.yaml: county {manifest.county!r} is not a 6-digit division code", file="manifest.yaml")
    if COUNTY_CODE.fullmatch(folder.name) and folder.name != manifest.county:
        raise DropError(f"manifest.yaml says county {manifest.county}, but the folder is named {folder.name}: "
                        "a drop copied without its manifest changed?", file="manifest.yaml")
    if manifest.county in taken:
        raise DropError(f"county {manifest.county} is also the county of another drop; one drop per county",
                        file="manifest.yaml")
    as_of = None
    if manifest.as_of is not None:
        try:
            as_of = f"{parse_month(manifest.as_of):%Y-%m}"
        except ValueError as error:
            raise DropError(f"manifest.yaml: as_of: {error}", file="manifest.yaml") from None
    return CountyDrop(folder.resolve(), manifest.county, as_of)


def province_as_of(drops: list[CountyDrop], as_of: str | None) -> str:
    """The province's month: the one given, else the latest of the county drops'."""
    if as_of:
        return f"{parse_month(as_of):%Y-%m}"
    months = [drop.as_of for drop in drops if drop.as_of]
    if not months:
        raise DropError("as_of is not known: give --as-of YYYY-MM or set as_of in the county drops' manifest.yaml",
                        file="manifest.yaml")
    return max(months)


def county_status(county: str, status: str, *, run_id: str | None = None, run_dir: str | None = None,
                  as_of: str | None = None, error: str | None = None, seconds: float | None = None,
                  worker: str | None = None) -> dict:
    """A county's line in the province publication (`publish_province`'s `counties`)."""
    return {"county": county, "status": status, "run_id": run_id, "run_dir": run_dir, "as_of": as_of,
            "error": one_line(error) if error else None, "seconds": seconds, "worker": worker}


def one_line(text: str) -> str:
    """A reason on one line, citizen numbers masked: what a report, a log and a terminal may show."""
    from hecha.storage.masking import mask_text

    line = mask_text(" ".join(str(text).split()).removeprefix(FAILED_RUN_PREFIX))
    return line if len(line) <= REASON_CHARACTERS else line[:REASON_CHARACTERS - 1] + "…"


def county_deployment_name(pool: str) -> str:
    return f"{county_run.name}/{pool}"


def ensure_deployment(pool: str) -> str:
    """The work pool (a process pool, created when missing) and `county_run`'s deployment on it; its full name."""
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            try:
                client.create_work_pool(WorkPoolCreate(name=pool, type=POOL_TYPE))
            except ObjectAlreadyExists:  # a worker starting now created it first
                pass
    county_run.to_deployment(
        pool,
        work_pool_name=pool,
        entrypoint_type=EntrypointType.MODULE_PATH,  # the worker imports hecha.flows.province: nothing is pulled
        description="One county's nightly run, published under <out>/counties/<code>/, exported to the province's store.",
        tags=["province"],
    ).apply()
    return county_deployment_name(pool)


def workers_online(pool: str) -> int:
    """How many workers of `pool` the server has heard from lately."""
    with get_client(sync_client=True) as client:
        workers = client.read_workers_for_work_pool(pool, limit=200, offset=0)
    return sum(worker.status == WorkerStatus.ONLINE for worker in workers)


def start_county_runs(deployment: str, drops: list[CountyDrop], out: Path, store: str, as_of: str,
                      policy: Path | None) -> dict[str, object]:
    """One flow run per county, all created now; the pool's workers take them as they are free. Flow runs by county."""
    started = {}
    for drop in drops:
        parameters = {
            "drop": str(drop.folder), "out": str((out / COUNTIES / drop.county).resolve()), "store": store,
            # a drop later than the province is run as of the province's month; an earlier one as of its own
            "as_of": min(as_of, drop.as_of) if drop.as_of else as_of,
            "policy": str(Path(policy).resolve()) if policy else None,
        }
        started[drop.county] = run_deployment(name=deployment, parameters=parameters, timeout=0, flow_run_name=drop.county,
                                              tags=["province", f"county:{drop.county}"])
    return started


def worker_of(flow_run) -> str | None:
    """Where a flow run ran, as Prefect knows it: the worker's name and the flow-run process's id."""
    name = (flow_run.labels or {}).get("prefect.worker.name")
    if not name and not flow_run.infrastructure_pid:
        return None
    return f"{name or 'worker ?'} (pid {flow_run.infrastructure_pid or '?'})"


def run_seconds(flow_run) -> float | None:
    if flow_run.start_time and flow_run.end_time:
        return round((flow_run.end_time - flow_run.start_time).total_seconds(), 3)
    return None


def finished_county(drop: CountyDrop, flow_run, out: Path, store: str, as_of: str) -> dict:
    """A finished county run's status: published (late when its drop is earlier than the province), or failed."""
    seconds, worker = run_seconds(flow_run), worker_of(flow_run)
    state = flow_run.state
    if state is None or not state.is_completed():
        reason = (state.message if state is not None else None) or (state.name if state is not None else "no state")
        return county_status(drop.county, "failed", as_of=drop.as_of, error=reason, seconds=seconds, worker=worker)
    try:
        export = read_record(*fsspec.core.url_to_fs(store), drop.county)
    except ExportError as error:
        return county_status(drop.county, "failed", as_of=drop.as_of, seconds=seconds, worker=worker,
                             error=f"its run completed but its export cannot be read: {type(error).__name__}")
    run_dir = out / COUNTIES / drop.county / export["run_id"]
    month = export.get("as_of") or drop.as_of or as_of
    return county_status(drop.county, "late" if month < as_of else "published", run_id=export["run_id"],
                         run_dir=str(run_dir), as_of=month, seconds=seconds, worker=worker)


def county_line(county: dict) -> str:
    """What the terminal shows of a county once it is done: code, status, seconds, worker; never citizen data."""
    seconds = f"{county['seconds']:7.1f} s" if county.get("seconds") is not None else "      - s"
    where = county.get("worker") or "-"
    line = f"{county['county'] or county['folder']:<8} {county['status']:<9} {seconds}  {where}"
    if county["status"] == "late":
        line += f"  (as of {county['as_of']})"
    if county.get("error"):
        line += f"  {county['error']}"
    return line


def wait_for_counties(started: dict[str, object], drops: list[CountyDrop], out: Path, store: str, as_of: str,
                      report=print) -> list[dict]:
    """Wait for every county run to end; `report` each county's line as it ends. Statuses in county order."""
    by_county = {drop.county: drop for drop in drops}
    pending = {county: flow_run.id for county, flow_run in started.items()}
    done: dict[str, dict] = {}
    with get_client(sync_client=True) as client:
        try:
            while pending:
                for county, flow_run_id in list(pending.items()):
                    flow_run = client.read_flow_run(flow_run_id)
                    if flow_run.state is None or not flow_run.state.is_final():
                        continue
                    done[county] = finished_county(by_county[county], flow_run, out, store, as_of)
                    del pending[county]
                    report(county_line(done[county]))
                if pending:
                    time.sleep(WAIT_SECONDS)
        except BaseException:  # the province stopped (Ctrl-C, SIGTERM): its county runs stop with it
            for flow_run_id in pending.values():
                with suppress(Exception):
                    client.set_flow_run_state(flow_run_id, Cancelling(message="the province run stopped"), force=True)
            raise
    return [done[county] for county in sorted(done)]


@task(name="run_cross", cache_policy=NO_CACHE, persist_result=False)
def cross_stage(con, store: str, counties: list[str], policy: dict, secret: bytes) -> dict:
    from hecha.province.cross import run_cross

    return run_cross(con, store, counties, policy, secret)


@task(name="publish_province", cache_policy=NO_CACHE, persist_result=False)
def publish_stage(con, out: Path, run_id: str, counties: list[dict], record: dict) -> Path:
    from hecha.province.publish import publish_province

    return publish_province(con, out, run_id, counties, record)


class NoCountyPublished(RuntimeError):
    """Every county failed: there is nothing for the cross stage to read, and nothing is published."""


@flow(name="province")
def province(drops: str, out: str, store: str | None = None, as_of: str | None = None, pool: str = POOL,
             policy: str | None = None) -> dict:
    """Every county drop under `drops` run on `pool`'s workers, the cross-county checks, the province published.

    `out`: the province's out folder (county folders, store, publications,
    case history); `store`: where counties export (a folder or an fsspec URL;
    default `<out>/store`); `as_of`: the province's month (default: the latest
    of the drops'); `policy`: the policy file for the counties and the cross
    stage. Returns the publication's folder, each county's status and the
    cross stage's time. Prints a line per county as it finishes.
    """
    import duckdb

    from hecha.config import load_policy
    from hecha.storage.files import make_private_dir, owner_only
    from hecha.storage.secret import load_or_create_secret

    logger = get_run_logger()
    started_at, started = now_utc(), time.perf_counter()
    out_dir = Path(out).resolve()
    store = store or str(out_dir / STORE)
    if "://" not in store:  # a folder: absolute, as every worker must find it under the same path
        store = str(Path(store).resolve())
    drops_found, refused = find_county_drops(Path(drops))
    for county in refused:
        print(county_line(county), flush=True)
    if not drops_found:
        raise NoCountyPublished(f"no county drop could be read ({len(refused)} refused): nothing to run")
    month = province_as_of(drops_found, as_of)
    province_policy = load_policy(Path(policy)) if policy else load_policy()
    owner_only()
    make_private_dir(out_dir)
    make_private_dir(out_dir / COUNTIES)
    if "://" not in store:
        make_private_dir(Path(store))

    def report(line: str) -> None:
        print(line, flush=True)
        logger.info(line)

    for county in refused:
        logger.info(county_line(county))
    deployment = ensure_deployment(pool)
    if not workers_online(pool):  # the counties wait for one; say so, or the province looks hung
        warning = (f"no worker on the work pool {pool} is online: the counties wait until one starts "
                   f"(PREFECT_API_URL=<this server> .venv/bin/prefect worker start --pool {pool} --limit 1)")
        logger.warning(warning)
    flow_runs = start_county_runs(deployment, drops_found, out_dir, store, month, Path(policy) if policy else None)
    counties = wait_for_counties(flow_runs, drops_found, out_dir, store, month, report)
    # a refused folder not named by a free county code cannot be one of the publication's counties: its record names it
    counties = sorted(counties + [county for county in refused if county["county"]], key=lambda county: county["county"])
    unnamed = [{"folder": county["folder"], "error": county["error"]} for county in refused if not county["county"]]
    fan_out_seconds = round(time.perf_counter() - started, 3)
    # a late county's data stops before the province's month: the cross stage reads the counties on time only
    exported = [county["county"] for county in counties if county["status"] == "published"]
    if not exported:
        late = sum(county["status"] == "late" for county in counties)
        raise NoCountyPublished(f"no county published as of {month} ({len(counties) + len(unnamed) - late} failed, {late} late): "
                                "nothing to cross-check or publish")

    con = duckdb.connect()
    try:
        cross_started = time.perf_counter()
        findings = cross_stage(con, store, exported, province_policy, load_or_create_secret(out_dir))
        cross_seconds = round(time.perf_counter() - cross_started, 3)
        run_id = f"{month}_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
        record = {
            "started_at": started_at,
            "parameters": {"drops": str(Path(drops).resolve()), "out": str(out_dir), "store": store, "as_of": month,
                           "pool": pool, "policy": str(Path(policy).resolve()) if policy else None,
                           "refused_folders": unnamed},
            "policy": province_policy,
            "timings_seconds": {"counties": fan_out_seconds, "cross": cross_seconds},
        }
        publication = publish_stage(con, out_dir, run_id, counties, record)
    finally:
        con.close()
    return {"publication": str(publication), "run_id": run_id, "as_of": month, "counties": counties,
            "refused_folders": unnamed,
            "findings": findings, "cross_seconds": cross_seconds, "seconds": round(time.perf_counter() - started, 3)}
