#!/usr/bin/env python3
"""Writes the files of the import memory benchmark's hostile shapes, each within the default limits:
make_hostile_files.py OUTDIR. Every user is new in the sample tenant HOSP_A.

- amplified.xlsx: 300 rows whose modules cells all use one 32,767-byte shared string "a;a;a;..."
  (issue 18, finding 2; refused at clinres.import_max_modules_per_cell);
- strings.xlsx: 900,000 distinct 29-byte shared strings (30 MB, just under
  clinres.import_max_text_bytes with their bookkeeping), 1,000 rows using some of them;
- long_rows.csv: 60,000 rows of 300 bytes (a 100-character name and an ignored 150-byte column),
  18 MB, just under clinres.import_max_bytes."""
import random
import sys
import zipfile

out = sys.argv[1]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(path, strings, rows):
    """A package of one sheet (rows: sheetData XML) and a shared string table (list of str)."""
    sst = f'<sst xmlns="{MAIN}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>"
    parts = {
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                           '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns='
                                      '"http://schemas.openxmlformats.org/package/2006/relationships">'
                                      f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                                      f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                                      '</Relationships>',
        "xl/sharedStrings.xml": sst,
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)


def s(ref, i):
    return f'<c r="{ref}" t="s"><v>{i}</v></c>'


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


header = '<row r="1">' + s("A1", 0) + s("B1", 1) + s("C1", 2) + "</row>"
rows = header + "".join(f'<row r="{r}">{inline(f"A{r}", f"amp{r}@hosp-a.example")}{inline(f"B{r}", "Amp")}'
                        f'{s(f"C{r}", 3)}</row>' for r in range(2, 302))
xlsx(f"{out}/amplified.xlsx", ["email", "name", "modules", "a;" * 16383 + "a"], rows)

rng = random.Random(18)
strings = ["email", "name", "note"] + ["%029x" % rng.getrandbits(116) for _ in range(900000)]
rows = header + "".join(f'<row r="{r}">{inline(f"A{r}", f"str{r}@hosp-a.example")}{inline(f"B{r}", f"Str {r}")}'
                        f'{s(f"C{r}", 3 + r)}</row>' for r in range(2, 1002))
xlsx(f"{out}/strings.xlsx", strings, rows)

with open(f"{out}/long_rows.csv", "w", encoding="utf-8", newline="") as f:
    f.write("email,name,note\n")
    for i in range(60000):
        f.write(f"long{i:06d}@hosp-a.example,{'L' * 90} {i:09d},{'n' * 150}\n")
