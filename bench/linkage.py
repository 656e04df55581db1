"""Quality and speed of identity linking: hecha's linker against Splink 5, recordlinkage and an exact join.

    python -m bench.linkage [--persons 60000] [--million] [--noise 1 2] [--seed N] [--repeat N] [--skip splink,recordlinkage]

For each noise level it generates a drop of ~`persons` persons (households =
persons / 3.2) with the sample generator, loads and normalizes it once
(`load_drop`, `normalize_identities`; not timed as linkage) and links the same
rows with each method:

- hecha: `matching.link.link_people(con)` as it stands at run time (with the
  policy's thresholds, as the pipeline passes them, once it takes them); a
  row's prediction is its `link.person_record` person_id for role 'subject'.
- splink: Splink 5 on DuckDB (`bench/linkage_baselines.py`) — blocking on
  id_number | name_pinyin + birth_year | name_pinyin + township | birth_date
  + township; comparisons name (exact, term-frequency adjusted / same pinyin
  / pinyin Jaro-Winkler ≥ 0.9), birth (same date / within 31 days / same
  year / years ±1; cremation rows carry death year − 年龄 as an approximate
  birth year, their township and village come from 户籍地址), sex, place
  (same village / same township, village unknown / same township), id_number
  (exact / Levenshtein ≤ 2 when one of the two fails its check digit, u fixed
  at 1 / 2e6 since sampling never meets it); λ from exact numbers at recall
  0.8, u by random sampling (2e6 pairs), EM on id_number, on name_pinyin +
  birth_year and on birth_date + township; predict at p ≥ 0.5, clusters of
  edges with p ≥ 0.95 (hecha's review_threshold). Timed: training +
  prediction + clustering.
- recordlinkage: the same blocks, seven binary features (name, pinyin
  Jaro-Winkler ≥ 0.9, birth date, sex, township, id_number, id_number within
  two edits when one fails its check), ECMClassifier; clusters are connected
  components of the matched pairs.
- naive: rows with equal normalized citizen numbers are one person.

The competitors read one record per distinct identity tuple (see
`bench/linkage_baselines.py`); building it is not timed, as loading is not
for hecha.

Each method runs in a fresh subprocess, on an in-memory DuckDB (Splink's
input table, hecha's staged tables) loaded before the clock starts; with
`--repeat N` each runs N times and the median time is reported (quality from
the first run). Wall time is the linkage call only;
peak memory is the process's peak resident set (VmHWM) while it runs: the
high-water mark is reset (`/proc/self/clear_refs`) after the input is
opened and the libraries imported, so the figure is what the process held at
its fullest during linkage, the resident baseline included (printed beside it).

Quality, per unordered pair of sources (A, B): every cross-source row pair
(a in A, b in B) is predicted a match when both rows are in one predicted
cluster (an unlinked row matches nothing) and truly one when both rows have
the same true person. TP, FP and FN come from contingency counts
(predicted cluster × true person, per source), never from listing the pairs.
False merges count predicted clusters holding household_register rows of two
or more true persons; planted pairs (truth/pairs.csv: twins, siblings,
namesakes) count as merged when some predicted cluster holds rows of both.
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import duckdb
import polars as pl

from hecha.extracts.declarations import EXTRACTS, HOUSEHOLD_REGISTER

PERSONS_PER_HOUSEHOLD = 3.2
MILLION = 1_000_000
METHODS = ("hecha", "splink", "recordlinkage", "naive")
SOURCES = tuple(extract.stem for extract in EXTRACTS)
PAIR_KINDS_ORDER = ("twins", "siblings_same_birth_year", "namesake_same_township", "namesake_outside_county")


# --- metrics -------------------------------------------------------------------------


@dataclass(frozen=True)
class PairScore:
    """Cross-source row pairs of one source pair (or all of them)."""

    source_l: str
    source_r: str
    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def false_positives(self) -> int:
        return self.predicted_pairs - self.true_positives

    @property
    def false_negatives(self) -> int:
        return self.true_pairs - self.true_positives

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.true_pairs if self.true_pairs else None

    @property
    def f1(self) -> float | None:
        wrong_or_right = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / wrong_or_right if wrong_or_right else None


def attach_predictions(truth: pl.DataFrame, predicted: pl.DataFrame) -> pl.DataFrame:
    """Truth rows (source, source_row, true_id) with the predicted `cluster`; a row a method never saw is unlinked."""
    predicted = predicted.select("source", pl.col("source_row").cast(pl.Int64), pl.col("cluster").cast(pl.String))
    return truth.with_columns(pl.col("source_row").cast(pl.Int64)).join(predicted, on=["source", "source_row"], how="left")


def _cross_source_products(rows: pl.DataFrame, key: list[str], sources: Sequence[str]) -> dict[tuple[str, str], int]:
    """Σ over `key` values of n_A(key)·n_B(key), for every source pair A before B in `sources`."""
    rank = {source: i for i, source in enumerate(sources)}
    counts = rows.group_by(["source", *key]).agg(n=pl.len().cast(pl.Int64)).with_columns(
        rank=pl.col("source").replace_strict(rank, return_dtype=pl.Int32)
    )
    sums = (
        counts.join(counts, on=key, suffix="_r")
        .filter(pl.col("rank") < pl.col("rank_r"))
        .group_by("source", "source_r")
        .agg(products=(pl.col("n") * pl.col("n_r")).sum())
    )
    return {(row["source"], row["source_r"]): row["products"] for row in sums.iter_rows(named=True)}


def score_source_pairs(rows: pl.DataFrame, sources: Sequence[str] = SOURCES) -> list[PairScore]:
    """One PairScore per unordered source pair, in `sources` order, then the sum over all pairs.

    `rows`: source, cluster (null = unlinked, matches nothing), true_id — one per source row.
    """
    linked = rows.filter(pl.col("cluster").is_not_null())
    true_pairs = _cross_source_products(rows, ["true_id"], sources)
    predicted = _cross_source_products(linked, ["cluster"], sources)
    true_positives = _cross_source_products(linked, ["cluster", "true_id"], sources)
    scores = [
        PairScore(a, b, true_pairs.get((a, b), 0), predicted.get((a, b), 0), true_positives.get((a, b), 0))
        for i, a in enumerate(sources)
        for b in sources[i + 1:]
    ]
    total = PairScore(
        "all pairs", "",
        sum(s.true_pairs for s in scores), sum(s.predicted_pairs for s in scores), sum(s.true_positives for s in scores),
    )
    return [*scores, total]


def count_register_false_merges(rows: pl.DataFrame) -> int:
    """Predicted clusters holding household_register rows of two or more true persons."""
    register = rows.filter((pl.col("source") == HOUSEHOLD_REGISTER.stem) & pl.col("cluster").is_not_null())
    persons = register.group_by("cluster").agg(persons=pl.col("true_id").n_unique())
    return persons.filter(pl.col("persons") >= 2).height


def count_planted_pairs_merged(rows: pl.DataFrame, pairs: pl.DataFrame) -> dict[str, tuple[int, int]]:
    """Per kind of planted pair (true_id_l, true_id_r, kind): (pairs with rows of both persons in one cluster, pairs)."""
    membership = rows.filter(pl.col("cluster").is_not_null()).select("cluster", "true_id").unique()
    numbered = pairs.with_row_index("pair")
    merged = (
        numbered.join(membership.rename({"true_id": "true_id_l"}), on="true_id_l")
        .join(membership.rename({"true_id": "true_id_r"}), on=["cluster", "true_id_r"])
        .select("pair", "kind")
        .unique()
    )
    merged_counts = dict(merged.group_by("kind").len().iter_rows())
    totals = dict(numbered.group_by("kind").len().iter_rows())
    return {kind: (merged_counts.get(kind, 0), total) for kind, total in totals.items()}


# --- truth -----------------------------------------------------------------------------


def read_truth_rows(truth_dir: Path) -> pl.DataFrame:
    """source, source_row, true_id for every data row the generator wrote."""
    records = pl.read_csv(truth_dir / "records.csv", schema_overrides={"true_id_number": pl.String, "row_number": pl.Int64})
    return records.select("source", pl.col("row_number").alias("source_row"), pl.col("true_id_number").alias("true_id"))


def read_planted_pairs(truth_dir: Path) -> pl.DataFrame:
    pairs = pl.read_csv(truth_dir / "pairs.csv", schema_overrides={"true_id_number_l": pl.String, "true_id_number_r": pl.String})
    return pairs.select(pl.col("true_id_number_l").alias("true_id_l"), pl.col("true_id_number_r").alias("true_id_r"), "kind")


# --- preparing a drop ----------------------------------------------------------------


def prepare_drop(folder: Path) -> dict:
    """Load and normalize `folder/drop` into `folder/prepared.duckdb`; export the competitors' input."""
    from bench.linkage_baselines import build_identity_tables
    from hecha.extracts.load import load_drop
    from hecha.extracts.read import read_manifest
    from hecha.matching.normalize import normalize_identities

    drop = folder / "drop"
    started = time.perf_counter()
    con = duckdb.connect(str(folder / "prepared.duckdb"))
    try:
        load_drop(con, drop, read_manifest(drop))
        normalize_identities(con)
        loaded = time.perf_counter() - started
        counts = build_identity_tables(con)
        con.execute(f"copy bench.identity to '{folder / 'identity.parquet'}' (format parquet)")
        con.execute(
            f"copy (select source, source_row, record_id, id_number_normalized from bench.identity_rows) "
            f"to '{folder / 'identity_rows.parquet'}' (format parquet)"
        )
        con.execute("drop schema bench cascade")  # hecha's copy of the database sees only what the pipeline made
    finally:
        con.close()
    return {"load_seconds": loaded, **counts}


# --- one method in its own process -----------------------------------------------------


def _proc_status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset this process's resident high-water mark (Linux ≥ 4.0); False when it cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    hwm = _proc_status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def rss_bytes() -> int:
    rss = _proc_status_kib("VmRSS")
    return rss * 1024 if rss is not None else 0


def _rows_from_records(folder: Path, clusters: pl.DataFrame) -> pl.DataFrame:
    rows = pl.read_parquet(folder / "identity_rows.parquet")
    return rows.join(clusters.rename({"unique_id": "record_id", "cluster_id": "cluster"}), on="record_id", how="left").select(
        "source", "source_row", "cluster"
    )


def _link_with_hecha(folder: Path, work: Path, notes: list[str]):
    from hecha.matching.link import link_people
    from hecha.storage.secret import SECRET_BYTES, install_keyed_hash

    # like Splink: an in-memory database with the input (the staged tables) loaded before the clock starts
    con = duckdb.connect()
    install_keyed_hash(con, secrets.token_bytes(SECRET_BYTES))  # person ids of this process only
    con.execute(f"attach '{folder / 'prepared.duckdb'}' as prepared (read_only)")
    con.execute("create schema stg")
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where database_name = 'prepared' and schema_name = 'stg'"
    ).fetchall():
        con.execute(f"create table stg.{table} as select * from prepared.stg.{table}")
    con.execute("detach prepared")
    # called as the pipeline calls it: with the policy's thresholds once the linker takes them
    parameters = inspect.signature(link_people).parameters
    options = {}
    if "thresholds" in parameters:
        from hecha.config import load_policy
        from hecha.flows.pipeline import link_thresholds

        options["thresholds"] = link_thresholds(load_policy())

    def run() -> None:
        link_people(con, **options)

    def predictions() -> pl.DataFrame:
        # one subject link per row; should the linker ever write two, keep the surer one
        linked = con.sql(
            "select source, source_row, arg_max(person_id, coalesce(confidence, 0)) as cluster, count(*) as links "
            "from link.person_record where role = 'subject' group by source, source_row"
        ).pl()
        doubled = linked.filter(pl.col("links") > 1).height
        if doubled:
            notes.append(f"{doubled} rows have more than one subject link; the most confident one is scored")
        return linked.select("source", "source_row", "cluster")

    return run, predictions


def _link_with_splink(folder: Path, work: Path, notes: list[str]):
    import splink  # noqa: F401  (imported before the memory baseline is taken)

    from bench.linkage_baselines import cluster_with_splink

    con = duckdb.connect()
    con.execute(f"create table identity as select * from read_parquet('{folder / 'identity.parquet'}')")
    result = {}

    def run() -> None:
        result["clusters"] = cluster_with_splink(con, "identity")

    return run, lambda: _rows_from_records(folder, result["clusters"])


def _link_with_recordlinkage(folder: Path, work: Path, notes: list[str]):
    import recordlinkage  # noqa: F401

    from bench.linkage_baselines import cluster_with_recordlinkage

    identity = pl.read_parquet(folder / "identity.parquet")
    result = {}

    def run() -> None:
        result["clusters"] = cluster_with_recordlinkage(identity)

    return run, lambda: _rows_from_records(folder, result["clusters"])


def _link_with_exact_number(folder: Path, work: Path, notes: list[str]):
    from bench.linkage_baselines import cluster_by_exact_number

    rows = pl.read_parquet(folder / "identity_rows.parquet")
    result = {}

    def run() -> None:
        result["rows"] = cluster_by_exact_number(rows)

    return run, lambda: result["rows"]


RUNNERS = {
    "hecha": _link_with_hecha,
    "splink": _link_with_splink,
    "recordlinkage": _link_with_recordlinkage,
    "naive": _link_with_exact_number,
}


def measure_method(method: str, folder: Path) -> None:
    """Child process: link `folder`'s prepared drop with `method`; write `<method>.parquet` and `<method>.json`."""
    work = folder / method
    work.mkdir(exist_ok=True)
    notes: list[str] = []
    run, predictions = RUNNERS[method](folder, work, notes)
    rss_before = rss_bytes()
    peak_reset = reset_peak_rss()
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    peak = peak_rss_bytes()
    predictions().write_parquet(folder / f"{method}.parquet")
    if not peak_reset:
        notes.append("peak RSS could not be reset: it covers the whole process")
    stats = {"seconds": seconds, "peak_rss": peak, "rss_before": rss_before, "notes": notes}
    (folder / f"{method}.json").write_text(json.dumps(stats), encoding="utf-8")


@dataclass
class MethodRun:
    method: str
    seconds: float | None = None
    peak_rss: int | None = None
    rss_before: int | None = None
    scores: list[PairScore] | None = None
    false_merges: int | None = None
    pairs_merged: dict[str, tuple[int, int]] | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    all_seconds: list[float] = field(default_factory=list)


def run_method(method: str, folder: Path, truth: pl.DataFrame, pairs: pl.DataFrame, repeat: int = 1) -> MethodRun:
    """Link in a fresh interpreter (clean peak memory) `repeat` times, then score the first run's predictions."""
    result = MethodRun(method)
    runs = []
    for attempt in range(repeat):
        child = subprocess.run(
            [sys.executable, "-m", "bench.linkage", "--measure", method, "--work", str(folder)],
            capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
        )
        if child.returncode != 0:
            last = [line for line in child.stderr.strip().splitlines() if line.strip()]
            result.error = last[-1] if last else f"exit status {child.returncode}"
            print(child.stderr, file=sys.stderr)
            return result
        runs.append(json.loads((folder / f"{method}.json").read_text(encoding="utf-8")))
        if attempt == 0:
            first_predictions = pl.read_parquet(folder / f"{method}.parquet")
    stats = runs[0]
    result.all_seconds = sorted(run["seconds"] for run in runs)
    result.seconds = statistics.median(result.all_seconds)
    result.peak_rss = max(run["peak_rss"] for run in runs)
    result.rss_before = stats["rss_before"]
    result.notes = stats["notes"]
    rows = attach_predictions(truth, first_predictions)
    result.scores = score_source_pairs(rows)
    result.false_merges = count_register_false_merges(rows)
    result.pairs_merged = count_planted_pairs_merged(rows, pairs)
    shutil.rmtree(folder / method, ignore_errors=True)
    return result


# --- report ------------------------------------------------------------------------------


def _number(value: float | None, width: int = 6) -> str:
    return f"{value:>{width}.4f}" if value is not None else f"{'-':>{width}}"


def _mib(value: int | None) -> str:
    return f"{value / 2**20:,.0f} MiB" if value is not None else "-"


def format_report(title: str, runs: dict[str, MethodRun]) -> str:
    hecha = runs.get("hecha")
    others = [m for m in runs if m != "hecha"]
    reference = next((r.scores for r in runs.values() if r.scores), None)
    header = f"{'source pair':<38} {'true pairs':>10}"
    if hecha is not None:
        header += f" {'hecha P':>7} {'R':>6} {'F1':>6} {'FP':>6} {'FN':>6}"
    header += "".join(f" {m + ' F1':>{max(9, len(m) + 3)}}" for m in others)
    lines = [title, header, "-" * len(header)]
    for i, pair in enumerate(reference or []):
        if not pair.true_pairs:
            continue
        label = f"{pair.source_l} – {pair.source_r}" if pair.source_r else pair.source_l
        line = f"{label:<38} {pair.true_pairs:>10,}"
        if hecha is not None:
            if hecha.scores:
                s = hecha.scores[i]
                line += f" {_number(s.precision, 7)} {_number(s.recall)} {_number(s.f1)} {s.false_positives:>6,} {s.false_negatives:>6,}"
            else:
                line += f" {'-':>7} {'-':>6} {'-':>6} {'-':>6} {'-':>6}"
        for m in others:
            scores = runs[m].scores
            line += f" {_number(scores[i].f1 if scores else None, max(9, len(m) + 3))}"
        lines.append(line)
    lines.append("")
    kinds = sorted({k for r in runs.values() if r.pairs_merged for k in r.pairs_merged},
                   key=lambda k: PAIR_KINDS_ORDER.index(k) if k in PAIR_KINDS_ORDER else len(PAIR_KINDS_ORDER))
    for m, r in runs.items():
        if r.error:
            lines.append(f"{m:<14} failed: {r.error}")
            continue
        merged = ", ".join(f"{k} {r.pairs_merged.get(k, (0, 0))[0]}/{r.pairs_merged.get(k, (0, 0))[1]}" for k in kinds)
        lines.append(
            f"{m:<14} link {r.seconds:>8.2f} s {'(' + ', '.join(f'{x:.2f}' for x in r.all_seconds) + ')' if len(r.all_seconds) > 1 else ''}  peak RSS {_mib(r.peak_rss):>10} (before {_mib(r.rss_before)})   "
            f"register false merges {r.false_merges:>5,}   planted pairs in one cluster: {merged}"
        )
        lines += [f"{'':<14} note: {note}" for note in r.notes]
    if hecha and hecha.seconds and runs.get("splink") and runs["splink"].seconds:
        lines.append(f"time ratio hecha / Splink: {hecha.seconds / runs['splink'].seconds:.2f}")
    return "\n".join(lines)


def benchmark(persons: int, noise: float, seed: int, methods: list[str], repeat: int = 1) -> str:
    from data.sample.generate import generate_drop

    households = max(1, round(persons / PERSONS_PER_HOUSEHOLD))
    with tempfile.TemporaryDirectory(prefix="hecha-linkage-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        summary = generate_drop(folder, seed=seed, households=households, noise=noise)
        generated = time.perf_counter() - started
        prepared = prepare_drop(folder)
        truth = read_truth_rows(folder / "truth")
        pairs = read_planted_pairs(folder / "truth")
        runs = {}
        for method in methods:
            runs[method] = run_method(method, folder, truth, pairs, repeat)
            print(f"  {method}: {'failed' if runs[method].error else f'{runs[method].seconds:.1f} s'}", file=sys.stderr, flush=True)
    title = (
        f"\nnoise {noise:g}, seed {seed}: {summary['persons']:,} register persons ({households:,} households), "
        f"{truth.height:,} source rows, {prepared['records']:,} distinct identity records for the competitors; "
        f"generated in {generated:.0f} s, load + normalize {prepared['load_seconds']:.0f} s"
    )
    return format_report(title, runs)


def main(argv: list[str] | None = None) -> int:
    from data.sample.generate import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m bench.linkage", description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=60_000)
    parser.add_argument("--million", action="store_true", help="~1M persons; hecha, Splink and the exact join only")
    parser.add_argument("--noise", type=float, nargs="+", default=None, help="noise levels (default 1 2; 1 with --million)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=1, help="runs per method; the median time is reported")
    parser.add_argument("--skip", default="", help="comma-separated methods to leave out: " + ", ".join(m for m in METHODS if m != "hecha"))
    parser.add_argument("--measure", choices=METHODS, help=argparse.SUPPRESS)  # child process entry
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure_method(args.measure, args.work)
        return 0
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = skip - set(METHODS)
    if unknown:
        parser.error(f"--skip {args.skip!r}: unknown method(s) {', '.join(sorted(unknown))}; expected {', '.join(METHODS)}")
    persons = MILLION if args.million else args.persons
    if args.million:
        skip.add("recordlinkage")  # pairwise pandas comparisons would not finish at this size
    noises = args.noise or ([1.0] if args.million else [1.0, 2.0])
    methods = [m for m in METHODS if m not in skip]
    for noise in noises:
        print(f"noise {noise:g}: generating ~{persons:,} persons…", file=sys.stderr, flush=True)
        print(benchmark(persons, noise, args.seed, methods, args.repeat), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
