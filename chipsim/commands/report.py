"""``chipsim report``: redraw a report directory's Markdown, HTML and figures from its JSON."""

from __future__ import annotations

import argparse

from . import paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim run --out reports/example
  chipsim report reports/example
  chipsim report reports/example --quiet"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="redraw a report directory (Markdown, HTML, figures) from its report.json",
        description=paragraph(
            "Read DIR/report.json (written by chipsim run --out DIR) and write "
            "report.md, the self-contained report.html and figures/*.png again from it alone. The "
            "directory is rebuilt beside DIR and renamed into place, so it is never left half "
            "written; report.json is kept byte for byte. A DIR holding a file chipsim did not "
            "write there, or one changed since (report.json aside), is refused."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directory", metavar="DIR", help="a report directory")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from ..report import render_report_dir

    out = render_report_dir(args.directory)
    if not args.quiet:
        print(f"wrote {out}/report.html (report.md, figures/)")
    return 0
