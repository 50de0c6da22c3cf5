#!/usr/bin/env bash
# Regenerates every reference file tests/reference/<stem>.json from its script <stem>.py in a
# virtual environment pinned by tests/reference/requirements.txt, then shows what changed.
#   bash tests/reference/regenerate.sh            all scripts
#   bash tests/reference/regenerate.sh eda stats  only these stems
# The environment lives in target/reference-venv (ignored by git); set REFERENCE_VENV to put it
# elsewhere and PYTHON to choose the interpreter that creates it (Python 3.11 recommended).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="${REFERENCE_VENV:-$root/target/reference-venv}"
req="tests/reference/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "creating $venv from $req"
    "${PYTHON:-python3}" -m venv --clear "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi
if [[ $# -gt 0 ]]; then
    stems=("$@")
else
    stems=()
    for f in tests/reference/*.py; do
        s="$(basename "$f" .py)"
        [[ "$s" == _* ]] || stems+=("$s")
    done
fi
for s in "${stems[@]}"; do
    echo "tests/reference/$s.py"
    (cd tests/reference && PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" "$s.py")
done
git --no-pager diff --stat -- tests/reference
# New reference files are not in the diff yet: list them.
git status --short --untracked-files=all -- tests/reference | grep '^??' || true
