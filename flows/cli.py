"""The `hecha` command: start flows and print where their results are.

`hecha run --drop DIR [--as-of YYYY-MM] [--out DIR]` runs the nightly flow;
`hecha link` writes every row's person; `hecha checks [CODE ...]` lists the
check catalogue as inspectors read it.
Errors about the input (a missing file or column, an unreadable encoding, no
as_of) print one message naming the file, row and column and exit with 2 —
no traceback: the reader is a bureau's operator, not a Python programmer.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import traceback
from pathlib import Path

from hecha.extracts.errors import DropError

EXIT_INPUT_ERROR = 2
EXIT_FAILED = 1
EXIT_BUSY = 3
EXIT_PARTIAL = 4  # hecha province: the province published, but some county failed or was late
EXIT_CANCELLED = 130  # as a shell reports Ctrl-C  # the case history is held by another hecha process: try again later


POLICY_HELP = "the county's policy file, merged over the national defaults (config/policy.yaml)"


def add_run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--policy", type=Path, help=POLICY_HELP)
    command.add_argument("--accept-unusable-ids", action="store_true",
                         help="run although more of a file's citizen numbers are unusable than inputs.max_unusable_id_share "
                              "allows; the report and workbooks say so on their first line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hecha", description="核查: reconcile county social-assistance extracts.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="load a drop, validate, link, run the checks, publish exceptions")
    run.add_argument("--drop", required=True, type=Path, help="folder with the seven extract files (and manifest.yaml)")
    run.add_argument("--as-of", dest="as_of", help="last complete month covered, YYYY-MM (default: manifest.yaml)")
    run.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    run.add_argument("--full", action="store_true",
                     help="a full rebuild: check every person again, not only those changed since the last run")
    add_run_options(run)
    link = commands.add_parser("link", help="load a drop and link its rows to people; write one line per data row")
    link.add_argument("--drop", required=True, type=Path, help="folder with the seven extract files (and manifest.yaml)")
    link.add_argument("--as-of", dest="as_of", help="last complete month covered, YYYY-MM (default: manifest.yaml)")
    link.add_argument("--out", required=True, type=Path, help="CSV file to write: source,row_number,person_id,method,confidence")
    link.add_argument("--runs", type=Path, default=Path("out"),
                      help="the runs' output folder, whose secret keys the person ids (default: out), so they match the runs'")
    campaign = commands.add_parser("campaign", help="re-run chosen checks for chosen townships; compared with the campaign's last run")
    campaign.add_argument("--drop", required=True, type=Path, help="folder with the seven extract files (and manifest.yaml)")
    campaign.add_argument("--name", required=True, help="campaign name: results go to <out>/campaigns/<name>/")
    campaign.add_argument("--checks", help="comma-separated check codes (default: all)")
    campaign.add_argument("--townships", help="comma-separated township names (default: all)")
    campaign.add_argument("--as-of", dest="as_of", help="last complete month covered, YYYY-MM (default: manifest.yaml)")
    campaign.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    add_run_options(campaign)
    event = commands.add_parser("event", help="screen a death file (cremation export or register rows) against the last run, "
                                              "without re-running the night; published as a run")
    event.add_argument("file", type=Path, help="the file: a cremation export or household-register rows, .csv or .xlsx")
    event.add_argument("--out", type=Path, default=Path("out"), help="output folder whose last run it applies to (default: out)")
    screen = commands.add_parser("screen", help="screen a payment batch (发放名册) before it is paid: a verdict for every line "
                                                "(拦截 block / 暂缓 hold / 通过 pass), the cleaned batch and the 拦截清单")
    screen.add_argument("--batch", required=True, type=Path, help="the batch: a payments file (.csv or .xlsx) for the coming month")
    screen.add_argument("--as-of", dest="as_of", help="the batch month, YYYY-MM (default: the latest 发放年月 of its lines)")
    screen.add_argument("--out", type=Path, default=Path("out"), help="output folder whose last run the batch is screened against "
                                                                     "(default: out); the screen goes to <out>/screens/")
    screen.add_argument("--drop", type=Path, help="run the night on this drop first (a cold start: no run to screen against yet)")
    screen.add_argument("--policy", type=Path, help="with --drop: " + POLICY_HELP + " (a screen runs under its night's policy)")
    screen.add_argument("--accept-unusable-ids", action="store_true",
                        help="with --drop: run the night although a file's citizen numbers are unusable beyond "
                             "inputs.max_unusable_id_share")
    serve = commands.add_parser("serve", help="serve the nightly flow on a schedule and the campaign flow on demand (Prefect)")
    serve.add_argument("--drop", required=True, type=Path, help="the folder each night's drop is delivered to")
    serve.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    serve.add_argument("--cron", default="0 2 * * *", help="nightly schedule, cron syntax (default: 02:00 every day)")
    serve.add_argument("--port", type=int, help="port of the Prefect server serve starts when PREFECT_API_URL is unset "
                                                "(default: 4200, or any free one)")
    serve.add_argument("--policy", type=Path, help=POLICY_HELP)
    serve.add_argument("--events", type=Path, help="a folder to watch for death files (cremation exports, register rows): "
                                                   "each is screened within a minute of arriving, as `hecha event` does")
    serve.add_argument("--batches", type=Path, help="a folder to watch for payment batches (发放名册): each is screened within "
                                                    "a minute of arriving, as `hecha screen` does")
    recover = commands.add_parser("recover", help="put right what a killed run or screen left: record published runs, mark dead runs and screens interrupted")
    recover.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out); its campaigns too")
    feedback = commands.add_parser("feedback", help="inspectors' feedback")
    feedback_commands = feedback.add_subparsers(dest="feedback_command", required=True)
    feedback_import = feedback_commands.add_parser("import", help="record the 核查结论 of a filled-in workbook")
    feedback_import.add_argument("workbook", type=Path, help="a workbook hecha wrote, filled in by an inspector (.xlsx)")
    feedback_import.add_argument("--out", type=Path, default=Path("out"), help="the output folder the run published to (default: out)")
    feedback_import.add_argument("--inspector", help="who filled it in (default: the workbook's last author)")
    diff = commands.add_parser("diff", help="what changed between two published runs: counts per check, then each case")
    diff.add_argument("run_a", help="the earlier run: a run folder, latest, previous, or the start of a run id in --out")
    diff.add_argument("run_b", help="the later run, named the same ways")
    diff.add_argument("--out", type=Path, default=Path("out"),
                      help="the output folder latest, previous and run ids are looked up in (default: out)")
    explain = commands.add_parser("explain", help="how one row of an extract was linked to a person: candidates, comparisons, the step that decided")
    explain.add_argument("source", help="the extract: household_register, dibao, tekun, registered_poor, cremation, disability, payments")
    explain.add_argument("row", type=int, help="the row's number in its file (1 = the first data row), as evidence and workbooks give it")
    explain.add_argument("--run", default="latest",
                         help="the run to read: a run folder, latest (default), previous, or the start of a run id in --out")
    explain.add_argument("--out", type=Path, default=Path("out"), help="the output folder runs are looked up in (default: out)")
    province = commands.add_parser("province", help="run a province: each county drop on the Prefect work pool's workers, "
                                                    "then the cross-county checks and the province's publication")
    province.add_argument("--drops", required=True, type=Path, help="folder with one county drop per subfolder (a shared "
                                                                    "folder every worker reads under the same path)")
    province.add_argument("--out", required=True, type=Path, help="the province's output folder (shared with every worker): "
                                                                  "counties/<code>/, store/, publications, case history")
    province.add_argument("--store", help="where counties export their tables: a folder or an fsspec URL (default: <out>/store)")
    province.add_argument("--pool", default="hecha", help="the Prefect work pool whose workers run the counties (default: hecha)")
    province.add_argument("--as-of", dest="as_of", help="the province's month, YYYY-MM (default: the latest of the drops' manifests)")
    province.add_argument("--policy", type=Path, help="the province's policy file, merged over the national defaults "
                                                      "(config/policy.yaml), for every county and the cross-county checks")
    checks = commands.add_parser("checks", help="list the check catalogue: code, Chinese name, description, parameters")
    checks.add_argument("codes", nargs="*", help="only these check codes (default: all)")
    checks.add_argument("--policy", type=Path, help=POLICY_HELP)
    return parser


def quiet_prefect() -> None:
    """Keep the console for hecha's own summary; Prefect's run log stays at warnings."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    logging.getLogger("prefect").setLevel(logging.WARNING)


class InputErrorWithoutTraceback(logging.Filter):
    """Prefect logs a failed task with its traceback; for input errors the message is the whole story."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], DropError):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_input_errors() -> None:
    for name in ("prefect.task_runs", "prefect.flow_runs", "prefect.task_engine", "prefect.flow_engine"):
        logging.getLogger(name).addFilter(InputErrorWithoutTraceback())


def touched(screened: dict) -> str:
    """What checking only the persons a change touches came to (checks/slice.py)."""
    if not screened["sliced"]:
        return f"the change touches {screened['persons']} persons or more, too many to check apart: everyone checked again"
    return (f"checks run again for {screened['persons']} persons ({screened['rows']} rows) the change touches; "
            f"{screened['night_findings_kept']} of the last run's {screened['night_findings']} findings kept, "
            f"{screened['slice_findings']} found for the persons touched")


def summarize(run_dir: Path) -> str:
    from hecha.extracts.validate import format_validation_failures
    from hecha.checks.labels import STATUS_LABELS, STATUS_ORDER

    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    lines = [f"exceptions: {run_dir / 'exceptions.csv'}"]
    mode = record.get("mode") or {}
    if mode.get("kind") == "incremental":
        screened = mode["screened"]
        lines.insert(0, f"incremental {mode['reason']}: {mode['changed_rows']} rows changed; " + touched(screened)
                        + " (hecha run --full checks everyone)")
    elif mode.get("kind") == "full" and mode.get("reason"):
        lines.insert(0, f"full rebuild: {mode['reason']}")
    event = record.get("event")
    if event:
        screened = event["screened"]
        lines.insert(0, f"event: {event['file']} ({event['source']}): {event['rows_read']} rows read, {event['rows_quarantined']} quarantined; "
                        f"{event['added']} added, {event['replaced']} replacing the register's row; applied to run "
                        f"{record['parameters']['night_run']}")
        lines.insert(1, touched(screened))
    books = sorted((run_dir / "workbooks").glob("*.xlsx"))
    if books:
        lines.append(f"workbooks: {run_dir / 'workbooks'} ({len(books)}: {', '.join(book.stem for book in books)})")
    if (run_dir / "report.html").exists():
        lines.append(f"report: {run_dir / 'report.html'}")
    history = record.get("history") or {}
    if history:
        statuses = ", ".join(f"{STATUS_LABELS[status]} ({status}) {history[status]}" for status in STATUS_ORDER if history.get(status))
        lines.append(f"since {history.get('previous_run') or 'no earlier run'}: {statuses or 'no findings'}")
        found = sum(record["findings"].values())
        suppressed = history.get("suppressed", 0)
        lines.append(f"listed for inspectors: {found - suppressed} of {found} findings "
                     f"({suppressed} {STATUS_LABELS['suppressed']}, in exceptions.csv with their status)")
    lines.append("findings per check (all found, suppressed included, as exceptions.csv counts them):")
    lines += [f"  {code:<24} {count}" for code, count in record["findings"].items()]
    lines.append("files (read = staged + quarantined):")
    for counts in record["files"]:
        lines.append(
            f"  {counts['file']:<26} {counts['rows_read']:>8} = {counts['rows_staged']:>8} + {counts['rows_quarantined']}"
        )
    failed = format_validation_failures(record["validation"])
    lines.append(f"validation: {len(failed)} expectation(s) failed" + (":" if failed else ""))
    lines += [f"  {line}" for line in failed]
    lines.append(f"run record: {run_dir / 'run.json'}")
    return "\n".join(lines)


def link_command(args: argparse.Namespace) -> int:
    """Load and link only, in-process: no checks, no Prefect server."""
    import duckdb

    from hecha.flows.pipeline import link_drop
    from hecha.reports.links import write_links
    from hecha.storage.files import make_private_dir
    from hecha.storage.secret import load_or_create_secret

    con = duckdb.connect()
    try:
        link_drop(con, args.drop, args.as_of, secret=load_or_create_secret(make_private_dir(args.runs)))
        methods = write_links(con, args.out)
    except DropError as error:
        print(f"hecha: input error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    print(f"links: {args.out} ({sum(methods.values())} rows: {', '.join(f'{m} {n}' for m, n in methods.items())})")
    return 0


def checks_command(args: argparse.Namespace) -> int:
    from hecha.checks.catalogue import BY_CODE, describe_catalogue
    from hecha.config import POLICY_PATH, load_policy

    unknown = [code for code in args.codes if code not in BY_CODE]
    if unknown:
        print(f"hecha: unknown check code(s): {', '.join(unknown)}; known: {', '.join(BY_CODE)}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    print(describe_catalogue(load_policy(args.policy or POLICY_PATH), args.codes), end="")
    return 0


def feedback_command(args: argparse.Namespace) -> int:
    from hecha.audit.feedback import FeedbackError, import_feedback

    try:
        result = import_feedback(args.workbook, args.out, inspector=args.inspector)
    except FeedbackError as error:
        print(f"hecha: feedback not recorded:\n{error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    recorded = ", ".join(f"{k} {v}" for k, v in result.dispositions.items()) or "none"
    links = ", ".join(f"{k} {v}" for k, v in result.link_decisions.items()) or "none"
    recovered = (f"追回金额 {len(result.recovered)} case(s), {sum(result.recovered.values()):.2f} yuan"
                 if result.recovered else "追回金额 none")
    print(f"{result.file} (run {result.run_id}, {result.township}): recorded {recorded}; "
          f"identity links {links}; {recovered}; {result.unchanged} already recorded")
    return 0


def diff_command(args: argparse.Namespace) -> int:
    from hecha.audit.history import diff_cases, diff_runs, format_diff, resolve_run

    try:
        run_a, run_b = resolve_run(args.out, args.run_a), resolve_run(args.out, args.run_b)
        print(format_diff(run_a, run_b, diff_runs(run_a, run_b), diff_cases(run_a, run_b)))
    except (FileNotFoundError, ValueError) as error:  # no such run, or a run id's start that fits several
        print(f"hecha: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return 0


def explain_command(args: argparse.Namespace) -> int:
    from hecha.audit.history import resolve_run
    from hecha.extracts.declarations import BY_STEM
    from hecha.reports.explain import explain_row

    if args.source not in BY_STEM:
        print(f"hecha: {args.source}: no such extract (one of {', '.join(BY_STEM)})", file=sys.stderr)
        return EXIT_INPUT_ERROR
    try:
        import duckdb

        run_dir = resolve_run(args.out, args.run)
        database = run_dir / "hecha.duckdb"
        if not database.exists():
            raise FileNotFoundError(f"{run_dir}: no run database (retention removes those of older runs)")
        con = duckdb.connect(str(database), read_only=True)
        try:
            print(f"{run_dir.name}: " + explain_row(con, args.source, args.row))
        finally:
            con.close()
    except (FileNotFoundError, ValueError, LookupError) as error:
        print(f"hecha: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return 0


def split_list(text: str | None) -> list[str] | None:
    return [item.strip() for item in text.split(",") if item.strip()] if text else None


def run_as_flow(args: argparse.Namespace) -> Path:
    """With `PREFECT_API_URL` naming a running Prefect server: the run recorded there as a flow run, beside the nightly ones."""
    quiet_prefect()
    quiet_input_errors()
    if args.command == "event":
        from hecha.flows.watch import event

        return event(file=args.file, out=args.out)
    options = {"policy": args.policy, "accept_unusable_ids": args.accept_unusable_ids}
    if args.command == "campaign":
        from hecha.flows.campaign import campaign

        return campaign(drop=args.drop, campaign=args.name, checks=split_list(args.checks),
                        townships=split_list(args.townships), as_of=args.as_of, out=args.out, **options)
    from hecha.flows.nightly import nightly

    return nightly(drop=args.drop, as_of=args.as_of, out=args.out, full=args.full, **options)


def prepare_here(args: argparse.Namespace):
    """The run started in this process (folders, manifest, as_of, policy refused here), and its stages."""
    from hecha.flows.run import start_campaign, start_run
    from hecha.flows.stages import nightly_stages

    if args.command == "event":
        from hecha.flows.event import event_stages, start_event

        return start_event(args.file, args.out), event_stages()
    options = {"policy_file": args.policy, "accept_unusable_ids": args.accept_unusable_ids}
    if args.command == "campaign":
        return start_campaign(args.drop, args.name, split_list(args.checks), split_list(args.townships), args.as_of, args.out,
                              **options)
    return start_run(args.drop, args.as_of, args.out, full=args.full, **options), nightly_stages()


class TerminalProgress:
    """On a terminal: a live line for the stage under way (spinner, elapsed time), a line per stage done."""

    def __init__(self):
        from rich.console import Console

        from hecha.flows.stages import stage_outcome

        self.console = Console(stderr=True, highlight=False)
        self.outcome = stage_outcome
        self.status = None

    def started(self, run, name: str, number: int, total: int) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.status = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                               console=self.console, transient=True)
        self.status.add_task(f"[{number}/{total}] {name}", total=None)
        self.status.start()

    def _stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def done(self, run, name: str, seconds: float, number: int, total: int) -> None:
        self._stop()
        outcome = self.outcome(run, name)
        self.console.print(f"[{number}/{total}] {name:<24} {seconds:6.1f} s  {outcome}")

    def failed(self, run, name: str, seconds: float, number: int, total: int, error: BaseException) -> None:
        self._stop()


def stop_on_sigterm() -> None:
    """SIGTERM (a service manager stopping the run) ends it as Ctrl-C does: recorded as cancelled, in its stage."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


class CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (not when the handler was made)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def show_progress() -> None:
    """Stage lines on stderr as a run goes, so a long run is not silent."""
    logger = logging.getLogger("hecha")
    if not any(isinstance(handler, CurrentStderr) for handler in logger.handlers):
        handler = CurrentStderr()
        handler.setFormatter(logging.Formatter("hecha: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def screen_here(args: argparse.Namespace) -> Path:
    """`hecha screen`: the night run first on --drop, then the batch judged against the last run; the screen's folder."""
    from hecha.flows.screen import run_screen, start_screen

    if args.drop is not None:
        from hecha.flows.run import start_run
        from hecha.flows.stages import nightly_stages, run_stages

        if not Path(args.batch).is_file():  # refused before the night is run for nothing
            raise DropError(f"batch file not found: {args.batch}", file=str(args.batch))
        run_stages(start_run(args.drop, None, args.out, policy_file=args.policy,
                             accept_unusable_ids=args.accept_unusable_ids), nightly_stages())
    return run_screen(start_screen(args.batch, args.out, args.as_of))


def recover_command(args: argparse.Namespace) -> int:
    from hecha.flows.run import recover_out

    folders = [args.out] + sorted(path for path in (args.out / "campaigns").glob("*") if path.is_dir())
    for folder in folders:
        done = recover_out(folder)
        print(f"{folder}: recorded {len(done['recorded'])} published run(s) missing from the history"
              f"{' (' + ', '.join(done['recorded']) + ')' if done['recorded'] else ''}; "
              f"marked {len(done['interrupted'])} dead run(s) interrupted"
              f"{' (' + ', '.join(done['interrupted']) + ')' if done['interrupted'] else ''}")
    return 0


START_PROVINCE = ("start a Prefect server (.venv/bin/prefect server start --host 0.0.0.0) and a worker on each machine "
                  "(PREFECT_API_URL=http://<server>:4200/api .venv/bin/prefect worker start --pool hecha --limit 1)")


def prefect_server_answers(url: str) -> str | None:
    """None when the Prefect API at `url` answers its health check; else why not, in a few words."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=10) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except OSError as error:
        return str(getattr(error, "reason", None) or error)


class FailureWithoutTraceback(logging.Filter):
    """A province that published nothing is said in one line; Prefect would log the flow's traceback too."""

    def __init__(self, *kinds: type[BaseException]):
        super().__init__()
        self.kinds = kinds

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.kinds):
            record.exc_info = None
            record.exc_text = None
        return True


def province_command(args: argparse.Namespace) -> int:
    """Every county on the pool's workers, the cross-county checks, the province published; a line per county."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        print(f"hecha: PREFECT_API_URL is not set: the counties run on Prefect workers; {START_PROVINCE}, then set "
              "PREFECT_API_URL=http://<server>:4200/api here too", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if not args.drops.is_dir():
        print(f"hecha: drops folder not found: {args.drops}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    from hecha.config import load_policy, parse_month
    from hecha.flows.province import NoCountyPublished, find_county_drops, one_line, province

    found, refused = find_county_drops(args.drops)
    if not found and not refused:
        print(f"hecha: no county drop in {args.drops}: expected one subfolder per county, each with its extract files "
              "and manifest.yaml (county, as_of)", file=sys.stderr)
        return EXIT_INPUT_ERROR
    try:
        if args.as_of:
            parse_month(args.as_of)
    except ValueError as error:
        print(f"hecha: --as-of {args.as_of}: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    try:
        if args.policy:
            load_policy(args.policy)
    except (OSError, ValueError) as error:  # a policy file that is missing or does not validate
        print(f"hecha: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    problem = prefect_server_answers(url)
    if problem:
        print(f"hecha: the Prefect server at {url} does not answer ({problem}); {START_PROVINCE}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    quiet_prefect()
    quiet_input_errors()
    stop_on_sigterm()  # a scheduler stopping the province cancels its county runs, as Ctrl-C does
    for name in ("prefect.flow_runs", "prefect.flow_engine"):
        logging.getLogger(name).addFilter(FailureWithoutTraceback(NoCountyPublished))
    try:
        result = province(drops=str(args.drops.resolve()), out=str(args.out.resolve()), store=args.store, as_of=args.as_of,
                          pool=args.pool, policy=str(args.policy.resolve()) if args.policy else None)
    except DropError as error:  # no as_of known for the province
        print(f"hecha: input error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except NoCountyPublished as error:
        print(f"hecha: province failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("hecha: province cancelled; the county runs not yet finished were cancelled; nothing of the province was "
              "published", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as error:  # the cross stage or the publication: nothing of the province was published
        print(f"hecha: province failed: {one_line(f'{type(error).__name__}: {error}')}", file=sys.stderr)
        return EXIT_FAILED
    findings = ", ".join(f"{code} {count}" for code, count in result["findings"].items()) or "none"
    print(f"cross-county checks: {result['cross_seconds']:.1f} s; findings: {findings}")
    print(f"province: {result['publication']}")
    every = all(county["status"] == "published" for county in result["counties"]) and not result["refused_folders"]
    return 0 if every else EXIT_PARTIAL


def main(argv: list[str] | None = None) -> int:
    from hecha.storage.database import DatabaseBusy
    from hecha.storage.files import owner_only

    args = build_parser().parse_args(argv)
    owner_only()  # every file hecha writes holds personal data
    try:
        if args.command == "feedback":
            return feedback_command(args)
        if args.command == "diff":
            return diff_command(args)
        if args.command == "link":
            return link_command(args)
        if args.command == "explain":
            return explain_command(args)
        if args.command == "checks":
            try:
                return checks_command(args)
            except ValueError as error:  # a county policy that does not validate
                print(f"hecha: {error}", file=sys.stderr)
                return EXIT_INPUT_ERROR
        if args.command == "recover":
            return recover_command(args)
        if args.command == "province":
            return province_command(args)
        if args.command == "serve":
            quiet_prefect()
            quiet_input_errors()
            from hecha.flows.serve import serve_flows

            try:
                serve_flows(drop=args.drop, out=args.out, cron=args.cron, policy=args.policy, port=args.port, events=args.events,
                            batches=args.batches)
            except ValueError as error:  # a county policy that does not validate
                print(f"hecha: {error}", file=sys.stderr)
                return EXIT_INPUT_ERROR
            return 0
        show_progress()
        stop_on_sigterm()
        try:
            if args.command == "screen":  # a screen runs here: seconds, and the bank waits for its result
                run_dir = screen_here(args)
            elif os.environ.get("PREFECT_API_URL"):
                run_dir = run_as_flow(args)
            else:
                # without PREFECT_API_URL no Prefect server is started: nothing can outlive this command
                from hecha.flows.stages import run_stages

                try:
                    run, stages = prepare_here(args)
                except ValueError as error:  # a campaign name, a check code, a policy that is refused
                    print(f"hecha: {error}", file=sys.stderr)
                    return EXIT_INPUT_ERROR
                run_dir = run_stages(run, stages, TerminalProgress() if sys.stderr.isatty() else None)
        except DropError as error:
            # the failed frames hold the run's database objects; release them before exit
            traceback.clear_frames(error.__traceback__)
            print(f"hecha: input error: {error}", file=sys.stderr)
            return EXIT_INPUT_ERROR
        except KeyboardInterrupt:
            print(f"hecha: {args.command} cancelled; nothing was published (the record in its .work- folder says where it "
                  f"stopped)", file=sys.stderr)
            return EXIT_CANCELLED
        except Exception as error:  # the run record has the stage, the error and its traceback
            if isinstance(error, DatabaseBusy):
                raise
            if isinstance(error, ValueError) and os.environ.get("PREFECT_API_URL"):
                print(f"hecha: {error}", file=sys.stderr)  # refused when the flow started (name, check code, policy)
                return EXIT_INPUT_ERROR
            print(f"hecha: {args.command} failed: {type(error).__name__}: {error} (see the record in its .work- folder)",
                  file=sys.stderr)
            return EXIT_FAILED
    except DatabaseBusy as error:
        print(f"hecha: {error}", file=sys.stderr)
        return EXIT_BUSY
    except BrokenPipeError:  # the reader went away (`hecha explain … | head`): nothing left to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print((run_dir / "summary.txt").read_text(encoding="utf-8") if args.command == "screen" else summarize(run_dir),
          end="" if args.command == "screen" else "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
