"""The documentation's pictures of a run: the HTML report and one workbook sheet, as PNG.

    python -m hecha.reports.screenshots RUN_DIR [--out docs] [--sheet 死亡人员仍领取]

Renders `RUN_DIR/report.html` and a sheet of `RUN_DIR/workbooks/全县.xlsx` in
headless Chromium (Debian's `chromium`; a CJK font such as
`fonts-wqy-microhei` makes the Chinese legible).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from hecha.reports.html_report import screenshot
from hecha.reports.workbooks import render_sheet_html


def take_screenshots(run_dir: Path, out: Path, sheet: str = "死亡人员仍领取") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    report_png = out / "report.png"
    screenshot(run_dir / "report.html", report_png, width=1280, height=3000)
    sheet_png = out / "workbook.png"
    with tempfile.TemporaryDirectory(prefix="hecha-sheet-") as tmp:
        page = Path(tmp) / "sheet.html"
        page.write_text(render_sheet_html(run_dir / "workbooks" / "全县.xlsx", sheet, max_rows=14), encoding="utf-8")
        screenshot(page, sheet_png, width=1900, height=900)
    return [report_png, sheet_png]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--sheet", default="死亡人员仍领取")
    args = parser.parse_args()
    for path in take_screenshots(args.run_dir, args.out, args.sheet):
        print(path)


if __name__ == "__main__":
    main()
