"""Build the PDF reports from the saved results (never from typed numbers).

    python -m helpers.report               # both: report.pdf and reports/flowers_transfer_learning.pdf
    python -m helpers.report management    # report.pdf only (make report)
    python -m helpers.report flowers       # the flower study's report only (make reports)
"""

from __future__ import annotations

import argparse
import sys

from helpers.core import cli, paths

REPORTS = ("management", "flowers")


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="*", choices=REPORTS, metavar="REPORT", help="management, flowers (default: both)")
    args = ap.parse_args(argv)
    for name in args.reports or REPORTS:
        if name == "management":
            from helpers.reports.management_report import build
        else:
            from helpers.reports.flowers_report import build
        print(paths.display_path(build()), flush=True)
    return 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
