#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless through Jupyter with the evcxr Rust kernel, then
# checks them (tests/notebooks/main.rs): no cell may fail, every notebook must print CHECK lines
# that agree with the findings the report computes, and the outputs committed in notebooks/ must be
# exactly what the execution produced now.
#
#   bash tests/notebooks/run.sh            # verify (what tests/run.sh does; never writes notebooks/)
#   bash tests/notebooks/run.sh --update   # execute and write the outputs into notebooks/*.ipynb
#
# Installs what is missing: evcxr_jupyter (cargo install --locked), nbconvert/nbclient in .venv/
# (pinned in tests/notebooks/requirements.txt) and the `rust` Jupyter kernel. All notebooks share one
# evcxr build folder (notebooks/build/evcxr, set in notebooks/evcxr.toml), so only the first one
# compiles polars and linfa; a second run reuses that folder and is fast.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
EVCXR_VERSION=0.22.0
VENV="$ROOT/.venv"
REQS="$ROOT/tests/notebooks/requirements.txt"
CELL_TIMEOUT=${NOTEBOOK_CELL_TIMEOUT:-2700}   # seconds; the first cell compiles every dependency
MODE=verify
if [[ "${1:-}" == "--update" ]]; then MODE=update; fi

export PATH="$HOME/.cargo/bin:$PATH"

# 1. The evcxr Jupyter kernel.
if ! evcxr_jupyter --help >/dev/null 2>&1 || [[ "$(cargo install --list | grep '^evcxr_jupyter ')" != *"v$EVCXR_VERSION:"* ]]; then
  echo "installing evcxr_jupyter $EVCXR_VERSION (about 12 minutes on 2 cores)"
  cargo install evcxr_jupyter --locked --version "$EVCXR_VERSION"
fi

# 2. Jupyter's headless executor in a virtual environment, reinstalled when the pins change.
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [[ ! -x "$VENV/bin/jupyter" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
  echo "installing nbconvert/nbclient into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
  echo "$want" > "$VENV/.requirements.sha256"
fi

# 3. The `rust` kernel registration.
kernels=$("$VENV/bin/jupyter" kernelspec list --json 2>/dev/null)
if [[ "$kernels" != *'"rust"'* ]]; then
  evcxr_jupyter --install
fi

# 4. Execute every notebook, one after another, into a scratch folder. notebooks/evcxr.toml points
# evcxr at one persistent build folder (notebooks/build/evcxr) shared by every kernel, and
# notebooks/.cargo/config.toml compiles the library optimised there, so only the first notebook
# pays for compiling polars and linfa, and the analyses run at release speed.
BUILD="$ROOT/notebooks/build/evcxr"
mkdir -p "$BUILD"
# evcxr resolves the notebooks' dependencies in its own crate; seed it with our lock file so the
# notebooks compile the same dependency versions as the report (and therefore print the same numbers).
cp "$ROOT/Cargo.lock" "$BUILD/Cargo.lock"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
t_all=$SECONDS
for nb in "$ROOT"/notebooks/*.ipynb; do
  t0=$SECONDS
  echo "executing $(basename "$nb")"
  "$VENV/bin/jupyter" nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=rust \
    --ExecutePreprocessor.timeout="$CELL_TIMEOUT" \
    --ExecutePreprocessor.record_timing=False \
    --output-dir "$OUT" --log-level=WARN "$nb"
  echo "  $(basename "$nb"): $((SECONDS - t0)) s"
done
echo "all notebooks executed in $((SECONDS - t_all)) s"

# 5. Check them: CHECK lines against the report's findings, and (verify mode) freshness of notebooks/.
if [[ $MODE == update ]]; then
  cp "$OUT"/*.ipynb "$ROOT/notebooks/"
  echo "updated notebooks/ with the executed outputs"
  cargo test --release --quiet --test notebooks
else
  NOTEBOOKS_EXECUTED="$OUT" cargo test --release --quiet --test notebooks
fi
