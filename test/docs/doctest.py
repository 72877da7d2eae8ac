#!/usr/bin/env python3
"""Runs the ```sql examples of markdown files with psql and compares the output they show.

Usage (inside a cluster: PGHOST, PGPORT, PGUSER...): doctest.py [--all-settings FILE] FILE...

Each file runs in a database of its own made for it (a copy of a template database made once
with CREATE EXTENSION clinres CASCADE and the sample, test/fixtures/sample.sql, whose psql
variables are set in the session), in one psql session, block after block in the file's order,
statement by statement, as a reader following the text in psql would: autocommit, unless the
example itself says BEGIN. A statement passes when it succeeds and, where the example shows
output right after it (before the next blank line), psql prints that output:
  - a result table (psql's aligned format without the "(N rows)" footer): compared line by line,
    trailing spaces ignored;
  - an error (ERROR:, DETAIL:, HINT: lines): the statement must fail with exactly those lines,
    and with the SQLSTATE that a trailing "-- SQLSTATE XXXXX" names;
  - a JSON value (lines starting with { or [): compared as JSON with the statement's one value.
Output written as SQL comments (-- ...) is not compared.

The info string after ```sql says how a block runs:
  ```sql                  run as above
  ```sql fragment         not run: a signature, an expression, a piece with placeholders (the
                          text around it says so)
  ```sql empty-database   run alone, in a database of its own without clinres or the sample
  ```sql illustrative     run; of a result table shown, only the header (the columns) is compared:
                          the figures are one server's (the text says they are an example)
ALTER SYSTEM settings that an example sets are reset after its file.

A table whose header's first cell is "setting" lists only settings that clinres defines; that of
the file given with --all-settings (docs/reference.md) lists every clinres.* setting.
"""
import json
import os
import re
import subprocess
import sys

MESSAGE = re.compile(r"^(ERROR|DETAIL|HINT|WARNING|NOTICE|INFO|CONTEXT):  ")
ERROR_KINDS = {"ERROR", "DETAIL", "HINT"}
SQLSTATE_NOTE = re.compile(r"\s+--\s*SQLSTATE\s+([0-9A-Z]{5})\s*$")
TRAILING_COMMENT = re.compile(r"\s+--.*$")
SEPARATOR = re.compile(r"^-+(\+-+)*$")  # the line under a result table's header
PSQL_PREFIX = re.compile(r"^psql:[^:]*:\d+: ")
MARK = "@@doctest"
TEMPLATE = "clinres_doctest_template"  # clinres and the sample, made once per run
SAMPLE = "test/fixtures/sample.sql"
COMPLETE_SETTINGS = set()  # the files whose settings table must list every clinres.* setting


class Statement:
    """One statement (or psql meta-command) of an example and the output the text shows after it."""

    def __init__(self, path, line, text):
        self.path, self.line, self.text = path, line, text
        self.expected = []  # the lines shown after it
        self.illustrative = False  # its result table's figures are an example
    def kind(self):
        """What the shown output is: None, 'table', 'messages' or 'json'."""
        if not self.expected:
            return None
        first = self.expected[0]
        if MESSAGE.match(first):
            return "messages"
        if first.startswith(("{", "[")):
            return "json"
        return "table"

    def where(self):
        """FILE:LINE and the statement's first line, for reports."""
        return f"{self.path}:{self.line}: {self.text.splitlines()[0].strip()}"


def blocks(path):
    """The ```sql blocks of a markdown file: (first line number, info words, lines)."""
    found, inside = [], None
    for no, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if line.startswith("```"):
            if inside is None:
                inside = (no + 1, line[3:].split(), [])
            else:
                if inside[1] and inside[1][0] == "sql":
                    found.append(inside)
                inside = None
        elif inside is not None:
            inside[2].append(line)
    return found


def statement_end(text, state):
    """Scans SQL text from state (quote, dollar tag); returns (index after the ending ';' or None, state)."""
    i, n = 0, len(text)
    quote, tag = state
    while i < n:
        c = text[i]
        if tag is not None:
            if text.startswith(tag, i):
                i, tag = i + len(tag), None
                continue
        elif quote is not None:
            if c == quote:
                if i + 1 < n and text[i + 1] == quote:  # '' or "" inside the quotes
                    i += 1
                else:
                    quote = None
        elif c in "'\"":
            quote = c
        elif text.startswith("--", i):
            break  # the rest of the line is a comment
        elif c == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$", text[i:])
            if m and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
                tag = m.group(0)
                i += len(tag)
                continue
        elif c == ";":
            return i + 1, (None, None)
        elif c == "\\":
            return n, (None, None)  # a psql meta-command (\gset) ends the statement and the line
        i += 1
    return None, (quote, tag)


def statements(path, first_line, lines):
    """Splits a block into statements, each with the output lines shown right after it."""
    result, current, state, last = [], None, (None, None), None
    for offset, line in enumerate(lines):
        no = first_line + offset
        rest = line
        if current is None:
            stripped = line.strip()
            if not stripped:
                last = None  # a blank line ends the output shown for a statement
                continue
            if last is not None and (SEPARATOR.match(line) or MESSAGE.match(line)):
                last.expected.append(line.rstrip())
                continue
            if stripped.startswith("--"):
                continue
            if last is not None and not line[:1].isalpha() and not line.startswith("\\"):
                last.expected.append(line.rstrip())
                continue
            last = None
            if line.startswith("\\"):
                result.append(Statement(path, no, line.strip()))
                continue
            current = Statement(path, no, "")
        while rest is not None:
            end, state = statement_end(rest, state)
            if end is None:
                current.text += rest + "\n"
                rest = None
            else:
                current.text += rest[:end]
                result.append(current)
                last, current = current, None
                rest = rest[end:]
                if not rest.strip() or rest.strip().startswith("--"):
                    rest = None
                else:
                    current = Statement(path, no, "")
    if current is not None and current.text.strip():
        raise ValueError(f"{current.where()}: the block ends inside this statement (no ';')")
    return result


def psql(database, script):
    """Runs a script in one psql session; returns (stdout, stderr)."""
    run = subprocess.run(["psql", "-X", "-q", "-d", database], input=script, capture_output=True,
                         text=True, encoding="utf-8")
    return run.stdout, run.stderr


def admin(sql):
    """Runs SQL in the postgres database, failing the test if it fails."""
    run = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"doctest: {sql}: {run.stderr.strip()}")


def run_session(database, items):
    """Runs the statements in one session; returns per statement (stdout lines, stderr lines, sqlstate)."""
    script = ["\\set ON_ERROR_STOP off", "\\pset footer off"]
    for i, st in enumerate(items):
        script += [f"\\echo {MARK} {i}", f"\\warn {MARK} {i}"]
        if st.kind() == "json":
            script += ["\\pset format unaligned", "\\pset tuples_only on", st.text,
                       "\\pset format aligned", "\\pset tuples_only off"]
        else:
            script.append(st.text)
        script.append(f"\\echo {MARK} state :SQLSTATE")
    script += [f"\\echo {MARK} end", f"\\warn {MARK} end"]
    out, err = psql(database, "\n".join(script) + "\n")
    return split(out, items, True), split(err, items, False)


def split(text, items, with_state):
    """Cuts psql's output at the markers: per statement, its lines (and SQLSTATE from stdout)."""
    parts, current, states = {}, None, {}
    for line in text.split("\n"):
        if line.startswith(MARK + " "):
            word = line.split()[1]
            if word == "state":
                states[current] = line.split()[2] if len(line.split()) > 2 else ""
            elif word == "end":
                current = None
            else:
                current = int(word)
                parts[current] = []
            continue
        if current is not None:
            parts[current].append(PSQL_PREFIX.sub("", line).rstrip())
    return [(parts.get(i, []), states.get(i)) for i in range(len(items))] if with_state else \
        [parts.get(i, []) for i in range(len(items))]


def check(st, out, state, err):
    """Compares one statement's output with what the text shows; returns problems (strings)."""
    problems = []
    shown = st.kind()
    if state is None:
        return [f"{st.where()}: did not run (psql stopped before it)\n" + "\n".join(err)]
    if shown != "messages" and state != "00000":
        return [f"{st.where()}: failed ({state}):\n  " + "\n  ".join(l for l in err if l)]
    while out and out[-1] == "":
        out = out[:-1]
    if shown == "table":
        want = [l.rstrip() for l in st.expected]
        if st.illustrative:  # the figures are an example: the columns are compared
            want, out = [[c.strip() for c in lines[0].split("|")] for lines in (want, out or [""])]
        if out != want:
            problems.append(f"{st.where()}: the text shows\n  " + "\n  ".join(map(str, want))
                            + "\nbut psql prints\n  " + "\n  ".join(map(str, out)))
    elif shown == "json":
        try:
            want = json.loads("\n".join(st.expected))
        except ValueError as e:
            return [f"{st.where()}: the output shown is not JSON: {e}"]
        try:
            got = json.loads("\n".join(out))
        except ValueError:
            return [f"{st.where()}: the text shows JSON, psql prints\n  " + "\n  ".join(out)]
        if got != want:
            problems.append(f"{st.where()}: the text shows\n  {json.dumps(want, ensure_ascii=False)}"
                            f"\nbut the statement returns\n  {json.dumps(got, ensure_ascii=False)}")
    elif shown == "messages":
        sqlstates = [m.group(1) for m in map(SQLSTATE_NOTE.search, st.expected) if m]
        want = [TRAILING_COMMENT.sub("", l) for l in st.expected if MESSAGE.match(l)]
        kinds = ERROR_KINDS | {MESSAGE.match(l).group(1) for l in want}
        got = [l for l in err if MESSAGE.match(l) and MESSAGE.match(l).group(1) in kinds]
        if got != want:
            problems.append(f"{st.where()}: the text shows\n  " + "\n  ".join(want)
                            + "\nbut psql prints\n  " + "\n  ".join(got))
        if any(l.startswith("ERROR:") for l in want) and state == "00000":
            problems.append(f"{st.where()}: the text shows an error, the statement succeeded")
        for s in sqlstates:
            if s != state:
                problems.append(f"{st.where()}: the text names SQLSTATE {s}, the statement ended with {state}")
    return problems


def settings_tables(path):
    """The settings listed in tables whose header starts with | setting | (a blank line ends a table):
    {name: context column}."""
    names, in_table = {}, False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if re.match(r"^\|\s*setting\s*\|", line):
            in_table = True
            continue
        if in_table and line.startswith("|"):
            cells = line.split("|")
            for name in re.findall(r"`(clinres\.[a-z_]+)`", cells[1]):
                names[name] = cells[3].strip() if len(cells) > 3 else ""
        else:
            in_table = False
    return names


def check_settings(path, complete):
    """Every setting a settings table lists exists (postmaster ones need preloading: not checked);
    if complete, every clinres.* setting is listed."""
    documented = settings_tables(path)
    if not documented and not complete:
        return [], 0
    run = subprocess.run(["psql", "-X", "-q", "-At", "-d", "postgres", "-c", "LOAD 'clinres'",
                          "-c", "SELECT name FROM pg_settings WHERE name LIKE 'clinres.%'"],
                         capture_output=True, text=True)
    real = set(run.stdout.split())
    if not real:
        return [f"{path}: could not read clinres's settings: {run.stderr.strip()}"], 0
    problems = [f"{path}: the settings table lists {name}, which clinres does not define"
                for name, context in sorted(documented.items()) if name not in real and context != "postmaster"]
    if complete:
        problems += [f"{path}: setting {name} is missing from the settings table"
                     for name in sorted(real - set(documented))]
    return problems, len(documented)


def make_template():
    """Creates the database each file's is copied from: clinres and the sample."""
    admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    admin(f"CREATE DATABASE {TEMPLATE}")
    run = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", TEMPLATE,
                          "-c", "SET client_min_messages = warning", "-c", "CREATE EXTENSION clinres CASCADE",
                          "-f", SAMPLE], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"doctest: the template database: {run.stderr.strip()}")


def sample_variables():
    """The psql variables that the sample sets (its \\set lines), as one statement."""
    with open(SAMPLE, encoding="utf-8") as f:
        sets = [line.rstrip("\n") for line in f if line.startswith("\\set ")]
    return "\n".join(["SELECT 1 \\g /dev/null"] + sets)  # a query first: it sets :SQLSTATE


def run_file(path, number):
    """Runs one markdown file's examples; returns (problems, summary)."""
    problems, ran, compared, fragments = [], 0, 0, 0
    session, alone = [], []
    for first, info, lines in blocks(path):
        if "fragment" in info[1:]:
            fragments += 1
            continue
        try:
            items = statements(path, first, lines)
        except ValueError as e:
            problems.append(str(e))
            continue
        for st in items:
            st.illustrative = "illustrative" in info[1:]
        (alone if "empty-database" in info[1:] else session).append(items)
    groups = [("", [st for items in session for st in items])] + [("empty", items) for items in alone]
    altered = set()
    for n, (kind, items) in enumerate(groups):
        if not items:
            continue
        database = f"clinres_doctest_{number}_{n}"
        admin(f"DROP DATABASE IF EXISTS {database}")
        # A file's database is a copy of the template (clinres and the sample), with the
        # sample's psql variables (:alice, :A, ...) set in its session.
        admin(f"CREATE DATABASE {database}" + (f" TEMPLATE {TEMPLATE}" if kind != "empty" else ""))
        try:
            if kind != "empty":
                items = [Statement(path, 0, sample_variables())] + items
            outs, errs = run_session(database, items)
            for st, (out, state), err in zip(items, outs, errs):
                problems += check(st, out, state, err)
                ran += st.line > 0
                compared += bool(st.expected)
                altered |= set(re.findall(r"ALTER\s+SYSTEM\s+SET\s+([a-z_.]+)", st.text, re.I))
        finally:
            for name in sorted(altered):
                admin(f"ALTER SYSTEM RESET {name}")
            if altered:
                admin("SELECT pg_reload_conf()")
            admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    found, settings = check_settings(path, path in COMPLETE_SETTINGS)
    problems += found
    summary = (f"{path}: {ran} statements run, {compared} outputs compared, {fragments} fragments"
               + (f", {settings} settings checked" if settings else ""))
    return problems, summary


def main():
    """Runs every file given; exits 1 if any example breaks."""
    failures = 0
    files = sys.argv[1:]
    if files[:1] == ["--all-settings"]:
        COMPLETE_SETTINGS.add(files[1])
        files = files[2:]
    make_template()
    try:
        for number, path in enumerate(files):
            problems, summary = run_file(path, number)
            print(summary + (": ok" if not problems else f": {len(problems)} FAILED"))
            for p in problems:
                print("  " + p.replace("\n", "\n  "))
            failures += len(problems)
    finally:
        admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
