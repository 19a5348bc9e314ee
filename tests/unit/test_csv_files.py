"""Every CSV the platform writes neutralises text a spreadsheet would run as a formula
(issue 13, finding 5): `perfplat.csvfiles`, the one writer."""

import pytest

from perfplat.csvfiles import csv_text, safe_cell, stream


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd", "'+1+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("=", "'="),
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text, written):
    assert safe_cell(text) == written


@pytest.mark.parametrize(
    "value", ["", "plain", "a=b", " =x", "'=x", "-12.5", "+3", "-0.50", "-1e5", "12", -5, -2.5]
)
def test_other_text_and_numbers_stay_as_they_are(value):
    assert safe_cell(value) is value


def test_csv_text_neutralises_cells_and_leaves_numbers_and_empty_cells():
    assert csv_text([["name", "n"], ["=1+1", -3], [None, "-4"]]) == (
        "name,n\r\n'=1+1,-3\r\n,-4\r\n"
    )


def test_a_stream_gives_the_same_text_in_chunks():
    rows = [["a", "b"], *([str(i), "@x"] for i in range(7))]
    chunks = list(stream(iter(rows), rows_per_chunk=3))
    assert len(chunks) == 3
    assert b"".join(chunks).decode() == csv_text(rows)
