"""Ingest: the one pipeline by which data reaches a data set.

    parse -> map columns -> convert by field type -> validate -> store

- parse (`parsing.read_table`): a CSV, XLSX, XLS or ODS file (an upload, or a collector's
  response) as a table; a collector's JSON as the same kind of table (collectors.reading);
- map (`mapping`): each column's header -> a field of the data set;
- convert (`conversion.convert`): each cell read by its field's declared type
  (datasets.fields, datasets.values): "1,200" -> 1200; a cell that does not fit is a row error
  naming the row, column, value and expected type; a free-form data set's fields not declared
  yet are proposed from the table first (`pipeline.read_records`);
- validate and store: the write path's own stages (datasets.writes.validate_for and
  store_records), which the JSON write API uses directly (its records arrive typed, so they
  are not converted: the API stays strict).

Spreadsheet uploads (perfplat.uploads), collectors (perfplat.collectors) and the support
check's sample files (perfplat.metrics.plans) call `pipeline`; nothing else reads tables.
"""
