#!/usr/bin/env bash
# Every ```sql example of README.md and docs/*.md, run against the sample data as written and
# compared with the output the text shows (test/docs/doctest.py says how). docs/node.md is
# left to the Node client's tests: test/client/node.sh runs its TypeScript snippets
# (test/docs/node_snippets.py) on the database it prepares for the package.
# Usage (inside a cluster, e.g. scripts/cluster.sh bash test/docs/run.sh): test/docs/run.sh [FILE.md...]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then
    set -- README.md $(ls docs/*.md | grep -v '^docs/node\.md$')
fi
exec python3 test/docs/doctest.py --all-settings docs/reference.md "$@"
