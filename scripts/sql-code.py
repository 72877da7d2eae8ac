#!/usr/bin/env python3
"""Prints the re-runnable statements of clinres's SQL parts: every CREATE OR REPLACE FUNCTION,
CREATE OR REPLACE VIEW, and COMMENT, GRANT or REVOKE on a function, in the parts' order.

The upgrade script from the last release to the version in development is versions/next.sql
(what cannot be re-run: tables, columns, types, triggers, dropped or re-typed functions)
followed by this output, so that a function is written once, in its feature's SQL file, and
test/client/upgrade.sh proves the upgraded database equals a fresh install.
Usage: scripts/sql-code.py PART.sql...
"""
import re
import sys

KEEP = re.compile(r"^(CREATE\s+OR\s+REPLACE\s+(FUNCTION|VIEW)\b|COMMENT\s+ON\s+(FUNCTION|VIEW)\b|"
                  r"(GRANT|REVOKE)\b[^;]*\bON\s+FUNCTION\b)", re.I | re.S)


def statements(text):
    """Splits SQL text into statements (with their leading comments), honouring quotes,
    dollar quotes and comments."""
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c in "'\"":
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif c == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", text[i:])
            if m:
                j = text.find(m.group(0), i + len(m.group(0)))
                if j < 0:
                    raise SystemExit("unterminated dollar quote")
                i = j + len(m.group(0))
            else:
                i += 1
        elif c == ";":
            out.append(text[start:i + 1])
            start = i = i + 1
        else:
            i += 1
    return out


def code_of(statement):
    """The statement without its leading comments and blank lines."""
    lines = statement.lstrip("\n").split("\n")
    while lines and (lines[0].strip() == "" or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def main(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            kept = [s.strip("\n") for s in statements(f.read()) if KEEP.match(code_of(s))]
        if kept:
            print(f"-- {path}")
            for s in kept:
                print(s)
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
