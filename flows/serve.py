"""`hecha serve`: the nightly flow on a schedule, the campaign flow on demand, and death files as they arrive.

Both are Prefect deployments served by one long-running process (Prefect's
`serve`): the nightly run starts from the cron schedule, a campaign starts
when someone asks for it from the Prefect UI or CLI with its parameters, e.g.
`prefect deployment run campaign/hecha -p campaign=t1 -p 'checks=["deceased_paid"]'`.
With `--events DIR`, `watch_events` looks at DIR every minute and screens each
death file dropped there; with `--batches DIR`, `watch_batches` screens each
payment batch dropped there before it is paid (flows/watch.py). The drop and out folders are the
deployments' default parameters. Runs
execute in a subprocess that imports the flows by module path, so serving
works from any working directory.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from prefect import serve
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval

from hecha.flows.campaign import campaign
from hecha.flows.nightly import nightly
from hecha.flows.watch import watch_batches, watch_events
from hecha.flows.run import BATCHES_ROOT_ENV, DROP_ROOT_ENV, EVENTS_ROOT_ENV, OUT_ROOT_ENV

DEPLOYMENT = "hecha"
NIGHTLY_DEPLOYMENT = f"{nightly.name}/{DEPLOYMENT}"
CAMPAIGN_DEPLOYMENT = f"{campaign.name}/{DEPLOYMENT}"
EVENT_SECONDS = 60  # how often the events folder is looked at
STOP_SECONDS = 10  # SIGINT or SIGTERM to exit, runs under way included
TIMEZONE = "Asia/Shanghai"  # the cron reads as the bureau's clock, not UTC


def build_deployments(*, drop: Path, out: Path, cron: str = "0 2 * * *", timezone: str = TIMEZONE,
                      policy: Path | None = None, events: Path | None = None,
                      batches: Path | None = None) -> list[RunnerDeployment]:
    """The nightly deployment on `cron` and the on-demand campaign deployment, both defaulting to `drop`, `out` and `policy`;
    with `events`, the deployment that screens the death files dropped there, every `EVENT_SECONDS`; with `batches`,
    the one that screens the payment batches dropped there as often."""
    folders = {"drop": str(Path(drop).resolve()), "out": str(Path(out).resolve())}
    if policy:
        folders["policy"] = str(Path(policy).resolve())
    return [
        nightly.to_deployment(
            DEPLOYMENT,
            schedule=Cron(cron, timezone=timezone),
            parameters=folders,
            description="All checks, all townships, published under out and compared with the previous nightly run.",
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
        campaign.to_deployment(
            DEPLOYMENT,
            parameters=folders,
            description="Chosen checks in chosen townships, published under out/campaigns/<campaign>/ "
            "and compared with that campaign's previous run.",
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    ] + ([
        watch_events.to_deployment(
            DEPLOYMENT,
            schedule=Interval(EVENT_SECONDS),
            parameters={"inbox": str(Path(events).resolve()), "out": folders["out"]},
            description="Screens each cremation export or register-death file dropped into the events folder against the "
            "last run, and publishes it as a run; the file then moves to done/ (or failed/, with the reason).",
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    ] if events else []) + ([
        watch_batches.to_deployment(
            DEPLOYMENT,
            schedule=Interval(EVENT_SECONDS),
            parameters={"inbox": str(Path(batches).resolve()), "out": folders["out"]},
            description="Screens each payment batch (发放名册) dropped into the batches folder against the last run before it "
            "is paid: verdicts, the cleaned batch and the 拦截清单 under out/screens/; the file then moves to done/ "
            "(or failed/, with the reason).",
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    ] if batches else [])


def serve_flows(*, drop: Path, out: Path, cron: str = "0 2 * * *", limit: int | None = None, timezone: str = TIMEZONE,
                policy: Path | None = None, port: int | None = None, events: Path | None = None,
                batches: Path | None = None) -> None:
    """Serve nightly on `cron` and campaign on demand until interrupted; `limit` caps concurrent runs.

    Runs may only read drops under `drop` and write under `out` (the flows
    refuse other folders given as parameters through the API). Without
    `PREFECT_API_URL`, a Prefect server with its UI is started for the
    duration, on the loopback, and ends with this process. SIGINT or SIGTERM
    stops serving within `STOP_SECONDS`: runs under way are stopped and
    recorded as cancelled in the stage they were in, and nothing is left
    running.
    """
    os.environ[DROP_ROOT_ENV] = str(Path(drop).resolve())
    os.environ[OUT_ROOT_ENV] = str(Path(out).resolve())
    if events:
        os.environ[EVENTS_ROOT_ENV] = str(Path(events).resolve())
    if batches:
        os.environ[BATCHES_ROOT_ENV] = str(Path(batches).resolve())
    if policy:
        from hecha.config import load_policy

        load_policy(Path(policy))  # a county policy that does not validate is refused before anything is served
    deployments = build_deployments(drop=drop, out=out, cron=cron, timezone=timezone, policy=policy, events=events,
                                    batches=batches)
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        from hecha.flows.server import start_server

        server, url = start_server(port)
        os.environ["PREFECT_API_URL"] = url
        print(f"hecha serve: Prefect UI at {url.removesuffix('/api')} (loopback only); "
              f"for prefect commands: export PREFECT_API_URL={url}", flush=True)
    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=shut_down, args=(Path(out), server), daemon=True).start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
            serve(*deployments, limit=limit)
    except KeyboardInterrupt:
        pass
    finally:
        if stopping.is_set():
            time.sleep(STOP_SECONDS)  # the shutdown thread ends the process
        else:
            stopping.set()
            shut_down(Path(out), server)


def shut_down(out: Path, server, grace: float = STOP_SECONDS - 3) -> None:
    """Stop the runs under way (SIGTERM, then SIGKILL after `grace`), record them cancelled, stop the server; then exit."""
    from hecha.flows.run import recover_out
    from hecha.flows.server import descendants, stop_processes

    keep = descendants(server.pid) | {server.pid} if server is not None else set()
    stop_processes(descendants(os.getpid()) - keep, grace)
    for folder in [out, *sorted(path for path in (out / "campaigns").glob("*") if path.is_dir())]:
        recover_out(folder, status="cancelled")
    if server is not None:
        stop_processes({server.pid}, 3)
    os._exit(0)
