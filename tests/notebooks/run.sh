#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless through Jupyter with the evcxr Rust kernel, then
# checks them (tests/notebooks/main.rs): no cell may fail, every notebook's hidden CHECK lines must
# agree with the findings the report computes, every number quoted in the prose must be one the
# notebook computed, and the outputs committed in notebooks/ must be exactly what the execution
# produced now. One notebook (01) is executed a second time on a synthetic table through the
# CUSTOMER_INTEL_DATA parameter, to prove the notebooks are not tied to the bundled data.
#
#   bash tests/notebooks/run.sh            # verify (what tests/run.sh does; never writes notebooks/)
#   bash tests/notebooks/run.sh --update   # execute and write the outputs into notebooks/*.ipynb
#   bash tests/notebooks/run.sh --install-only=kernel   # only install evcxr and register the kernel
#   bash tests/notebooks/run.sh --install-only=tools    # only install nbconvert (.venv/) and mold
#
# Installs what is missing: evcxr_jupyter (cargo install --locked), nbconvert/nbclient in .venv/
# (pinned in tests/notebooks/requirements.txt), the `rust` Jupyter kernel, and the mold linker
# (Debian package; evcxr links every cell with it when it is on PATH). All notebooks share one
# evcxr build folder (notebooks/build/evcxr, set in notebooks/evcxr.toml), so only the first one
# compiles polars and linfa; a second run reuses that folder and is fast. Per-cell times of the
# run are written to target/notebook-timings.txt (notebooks/README.md quotes them).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
EVCXR_VERSION=0.22.0
VENV="$ROOT/.venv"
REQS="$ROOT/tests/notebooks/requirements.txt"
CELL_TIMEOUT=${NOTEBOOK_CELL_TIMEOUT:-2700}   # seconds; the first cell compiles every dependency
MODE=verify
INSTALL=all   # which needs to install: all, or only `kernel` (evcxr) or `tools` (the rest), then stop
case "${1:-}" in
  --update) MODE=update ;;
  --install-only=kernel) MODE=install; INSTALL=kernel ;;
  --install-only=tools) MODE=install; INSTALL=tools ;;
esac

export PATH="$HOME/.cargo/bin:$PATH"

# 1. The evcxr Jupyter kernel.
if [[ $INSTALL != tools ]] && { ! evcxr_jupyter --help >/dev/null 2>&1 || [[ "$(cargo install --list | grep '^evcxr_jupyter ')" != *"v$EVCXR_VERSION:"* ]]; }; then
  echo "installing evcxr_jupyter $EVCXR_VERSION (about 12 minutes on 2 cores)"
  cargo install evcxr_jupyter --locked --version "$EVCXR_VERSION"
fi

# 2. Jupyter's headless executor in a virtual environment, reinstalled when the pins change.
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [[ $INSTALL != kernel ]] && [[ ! -x "$VENV/bin/jupyter" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
  echo "installing nbconvert/nbclient into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS"
  echo "$want" > "$VENV/.requirements.sha256"
fi

# 3. The mold linker: evcxr picks it up from PATH and links each cell faster than the system linker.
if [[ $INSTALL != kernel ]] && ! command -v mold >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the mold linker (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mold >/dev/null
  else
    echo "note: mold is not installed (apt-get install mold); evcxr links with the system linker" >&2
  fi
fi

# 4. The `rust` kernel registration.
# (The kernel install registers it whether or not the virtual environment is there yet.)
if [[ $INSTALL != tools ]]; then
  kernels=$("$VENV/bin/jupyter" kernelspec list --json 2>/dev/null || true)
  if [[ "$kernels" != *'"rust"'* ]]; then
    evcxr_jupyter --install
  fi
fi
if [[ $MODE == install ]]; then exit 0; fi

# 5. Execute every notebook, one after another, into a scratch folder. notebooks/evcxr.toml points
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
mkdir -p "$OUT/synthetic" "$ROOT/target"
execute() {  # execute NOTEBOOK OUTDIR: headless, with per-cell timings recorded in the metadata
  "$VENV/bin/jupyter" nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=rust \
    --ExecutePreprocessor.timeout="$CELL_TIMEOUT" \
    --ExecutePreprocessor.record_timing=True \
    --output-dir "$2" --log-level=WARN "$1"
}
t_all=$SECONDS
for nb in "$ROOT"/notebooks/*.ipynb; do
  t0=$SECONDS
  echo "executing $(basename "$nb")"
  execute "$nb" "$OUT"
  echo "  $(basename "$nb"): $((SECONDS - t0)) s"
done
echo "all notebooks executed in $((SECONDS - t_all)) s"

# The second table: a synthetic one (other size, seed and duplicate rate), given to 01 through
# the CUSTOMER_INTEL_DATA parameter.
SYNTH="$OUT/synthetic/customers.csv"
cargo run --release --quiet --bin report -- synth --rows 400 --seed 7 --duplicate-rate 0.3 --out "$SYNTH"
t0=$SECONDS
echo "executing 01_eda.ipynb on a synthetic table ($SYNTH)"
CUSTOMER_INTEL_DATA="$SYNTH" execute "$ROOT/notebooks/01_eda.ipynb" "$OUT/synthetic"
echo "  01_eda.ipynb on the synthetic table: $((SECONDS - t0)) s"

# Per-cell wall times (from the recorded timings), then the timings are stripped so the
# committed notebooks stay byte-identical from run to run.
"$VENV/bin/python" - "$OUT" "$ROOT/target/notebook-timings.txt" <<'PY'
import datetime, glob, os, sys
import nbformat
out, report = sys.argv[1], sys.argv[2]
lines = []
for path in sorted(glob.glob(os.path.join(out, "*.ipynb"))):
    nb = nbformat.read(path, as_version=4)
    times = []
    for i, cell in enumerate(nb.cells):
        ex = cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code" and ex and "shell.execute_reply" in ex and "iopub.execute_input" in ex:
            t = (datetime.datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
                 - datetime.datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))).total_seconds()
            times.append((i, t))
    nbformat.write(nb, path)
    if times:
        rest = [t for _, t in times[1:]]
        lines.append(f"{os.path.basename(path)}: first cell {times[0][1]:.1f} s, later cells {sum(rest):.1f} s in total, "
                     f"slowest later cell {max(rest, default=0):.2f} s")
        lines.append("  " + ", ".join(f"cell {i}: {t:.2f} s" for i, t in times))
open(report, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY

# 6. Check them: CHECK lines against the report's findings (and the synthetic table's), numbers in the
# prose, and (verify mode) freshness of notebooks/.
if [[ $MODE == update ]]; then
  cp "$OUT"/*.ipynb "$ROOT/notebooks/"
  echo "updated notebooks/ with the executed outputs"
  NOTEBOOKS_SYNTHETIC="$OUT/synthetic" NOTEBOOKS_SYNTHETIC_DATA="$SYNTH" cargo test --release --quiet --test notebooks
else
  NOTEBOOKS_EXECUTED="$OUT" NOTEBOOKS_SYNTHETIC="$OUT/synthetic" NOTEBOOKS_SYNTHETIC_DATA="$SYNTH" \
    cargo test --release --quiet --test notebooks
fi
