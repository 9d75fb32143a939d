"""Reads a report as a spreadsheet user's tools would: Python's csv module, or openpyxl.
Prints JSON: {"rows": [[cell, ...], ...], "types": [[data_type, ...], ...]}."""
import csv
import json
import sys

path = sys.argv[1]
if path.endswith(".csv"):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    types = [["s"] * len(r) for r in rows]
else:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    rows, types = [], []
    for row in ws.iter_rows():
        rows.append(["" if c.value is None else str(c.value) for c in row])
        types.append([c.data_type for c in row])
print(json.dumps({"sheet": path.endswith(".csv") or wb.sheetnames[0], "rows": rows, "types": types}))
