"""Tables written line by line (drvtape.cli.fast_table) are the very text rich draws, and
cells rich would wrap or fold still go to rich (issue 16: 10,000 sessions took ~9 s to draw)."""

import io
import sys

import pytest

from drvtape.cli import fast_table
from drvtape.cli.output import Format, RecordView, add_row, print_records, print_table, table

CASES = {
    "plain and wide characters": (("id", "a b", "end reason"), [["x1", "héllo wörld", ""], ["x2", "日本", "closed"]]),
    "no rows": (("id", "a"), []),
    "markup, emoji codes, empty cells": (("id", "x"), [["", ""], ["emoji 🎵", ":notes: [b]x[/b]"]]),
}


def captured(fn) -> str:
    saved, sys.stdout = sys.stdout, io.StringIO()
    try:
        fn()
        return sys.stdout.getvalue()
    finally:
        sys.stdout = saved


def by_rich(headers, rows) -> str:
    tbl = table(*headers, keys=("id",))
    for row in rows:
        add_row(tbl, row)
    return captured(lambda: print_table(tbl))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_table_written_line_by_line_is_what_rich_draws(case):
    headers, rows = CASES[case]
    assert fast_table.drawable(headers, rows) is not None
    view = RecordView(headers=headers, document=dict, cells=lambda r: r, keys=("id",))
    assert captured(lambda: print_records(Format.TABLE, rows, view)) == by_rich(headers, rows)


def test_cells_of_several_lines_are_left_to_rich():
    assert fast_table.drawable(("id", "x"), [["a", "two\nlines"]]) is None
    assert fast_table.drawable(("id", "x"), [["a", "tab\there"]]) is None
