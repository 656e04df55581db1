"""Files screened from Prefect as they arrive: death files between nights, and payment batches before they are paid.

- the `event` flow screens one death file, and `watch_events` what lands in a
  folder: `hecha serve --events DIR` serves it on a schedule (every minute by
  default): a cremation export or register file dropped into DIR is screened
  within a minute of its arrival (flows/event.py says what an event run does);
- the `screen` flow screens one payment batch, and `watch_batches` what lands
  in its folder: `hecha serve --batches DIR` serves it likewise (flows/screen.py
  says what a screen does; its results go to `<out>/screens/`).

Each file is then moved to DIR/done/, or to DIR/failed/ with a `.txt` saying why.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from prefect import flow

from hecha.extracts.errors import DropError
from hecha.flows.event import event_stages, start_event
from hecha.flows.nightly import progress_key, run_stages_as_tasks
from hecha.flows.run import BATCHES_ROOT_ENV, EVENTS_ROOT_ENV, OUT_ROOT_ENV, confine
from hecha.storage.files import make_private_dir

@flow(name="event", log_prints=True)
def event(file: Path, out: Path = Path("out")) -> Path:
    """Screen one death file (cremation export or register rows) against the last run of `out`; publish it as a run."""
    run = start_event(confine(file, EVENTS_ROOT_ENV), confine(out, OUT_ROOT_ENV))
    return run_stages_as_tasks(run, event_stages(), progress_key("event"))


@flow(name="screen", log_prints=True)
def screen(file: Path, out: Path = Path("out"), as_of: str | None = None) -> Path:
    """Screen one payment batch against the last run of `out`: a verdict per line, the cleaned batch, the 拦截清单."""
    from hecha.flows.screen import run_screen, start_screen

    screen_dir = run_screen(start_screen(confine(file, BATCHES_ROOT_ENV), confine(out, OUT_ROOT_ENV), as_of))
    print((screen_dir / "summary.txt").read_text(encoding="utf-8"))
    return screen_dir


DONE, FAILED = "done", "failed"


@flow(name="watch_batches", log_prints=True)
def watch_batches(inbox: Path, out: Path = Path("out")) -> list[str]:
    """Screen every payment batch dropped into `inbox`, oldest first; move each to `inbox/done/` or, refused, `inbox/failed/`."""
    return take_arrivals(confine(inbox, BATCHES_ROOT_ENV), lambda path: screen(file=path, out=out))


@flow(name="watch_events", log_prints=True)
def watch_events(inbox: Path, out: Path = Path("out")) -> list[str]:
    """Screen every file dropped into `inbox`, oldest first; move each to `inbox/done/` or, refused, `inbox/failed/`.

    A refused file gets a `.txt` beside it saying why. Runs on the deployment's
    schedule (every minute by default), so a file is screened within a minute
    of its arrival.
    """
    return take_arrivals(confine(inbox, EVENTS_ROOT_ENV), lambda path: event(file=path, out=out))


def take_arrivals(inbox: Path, handle) -> list[str]:
    """`handle` each file arrived in `inbox`, oldest first, then move it to done/ (or failed/, refused); the folders made."""
    made = []
    for path in arrived_files(inbox):
        try:
            folder = handle(path)
        except DropError as error:
            settle(path, inbox / FAILED, reason=str(error))
            continue
        settle(path, inbox / DONE)
        made.append(Path(folder).name)
    return made


def arrived_files(inbox: Path) -> list[Path]:
    """The .csv and .xlsx files in `inbox` (not in its done/failed folders), oldest first, then by name."""
    files = [path for path in Path(inbox).iterdir() if path.is_file() and path.suffix.lower() in (".csv", ".xlsx")]
    return sorted(files, key=lambda path: (path.stat().st_mtime, path.name))


def settle(path: Path, folder: Path, reason: str | None = None) -> Path:
    """Move a screened (or refused) file out of the inbox, stamped so a file of the same name never overwrites it."""
    make_private_dir(folder)
    target = folder / f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}_{path.name}"
    shutil.move(str(path), target)
    if reason:
        target.with_name(target.name + ".txt").write_text(reason + "\n", encoding="utf-8")
    return target
