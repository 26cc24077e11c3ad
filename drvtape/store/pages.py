"""Which page of a damaged SQLite file is damaged: for the one line that names it.

SQLite's quick_check names the page when it can run; when the damage stops it from running
at all ("database disk image is malformed"), the b-trees are walked here from their root
pages, checking each page's header as the file format describes it
(https://www.sqlite.org/fileformat.html, "B-tree Pages"): a page type of 2, 5, 10 or 13,
and child page numbers inside the file.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

_BTREE_TYPES = {2, 5, 10, 13}  # interior index, interior table, leaf index, leaf table
_INTERIOR = {2, 5}


def damaged_page(path: str) -> int | None:
    """The number of the first damaged page found in a SQLite file, or None."""
    roots = [1]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        conn = None
    if conn is not None:
        try:
            roots += [r for (r,) in conn.execute("SELECT rootpage FROM sqlite_master WHERE rootpage > 0")]
            for (line,) in conn.execute("PRAGMA quick_check(20)").fetchall():
                match = re.search(r"page (\d+)", str(line), re.IGNORECASE)
                if match:
                    return int(match.group(1))
        except sqlite3.Error:
            pass  # the walk below looks for the page
        finally:
            conn.close()
    try:
        return _first_bad_btree_page(Path(path).read_bytes(), roots)
    except OSError:
        return None


def _first_bad_btree_page(data: bytes, roots: list[int]) -> int | None:
    if len(data) < 100:
        return 1
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return 1
    pages = len(data) // page_size
    todo, seen = list(roots), set()
    while todo:
        number = todo.pop()
        if number in seen:
            continue
        seen.add(number)
        children = _children(data, page_size, number, pages)
        if children is None:
            return number
        todo.extend(children)
    return None


def _children(data: bytes, page_size: int, number: int, pages: int) -> list[int] | None:
    """The child pages of b-tree page `number`; None when its header is not a b-tree page's."""
    if not 1 <= number <= pages:
        return None
    start = (number - 1) * page_size
    header = start + (100 if number == 1 else 0)
    kind = data[header]
    if kind not in _BTREE_TYPES:
        return None
    if kind not in _INTERIOR:
        return []
    cells = int.from_bytes(data[header + 3:header + 5], "big")
    pointers = header + 12
    if pointers + 2 * cells > start + page_size:
        return None
    children = [int.from_bytes(data[header + 8:header + 12], "big")]
    for i in range(cells):
        cell = start + int.from_bytes(data[pointers + 2 * i:pointers + 2 * i + 2], "big")
        children.append(int.from_bytes(data[cell:cell + 4], "big"))
    if any(not 1 <= child <= pages for child in children):
        return None
    return children
