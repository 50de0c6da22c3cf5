#!/usr/bin/env bash
# Integration test of experiment tracking against a real MLflow tracking server.
#
# Installs MLflow (pinned) into the project's git-ignored .venv-mlflow/ unless it is already there,
# starts `mlflow server` on 127.0.0.1 (free port, SQLite backend and artifact store in a temporary
# folder), runs `report build --tracking-uri` twice (the second run reuses the experiment), and
# asserts through MLflow's own Python client that the runs exist with the expected params,
# metrics (including the stepped drift timeline, compared with findings.json) and artifacts.
# Then it checks failures: with the server stopped, and against a plain HTTP server that answers
# every MLflow call with an error, the report is still written and the exit code is 3.
# Every server it starts is stopped on exit. With `--install-only` it installs MLflow and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MLFLOW_VERSION=3.17.2
VENV="$ROOT/.venv-mlflow"
PY="$VENV/bin/python"

if ! "$PY" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
  echo "installing mlflow==$MLFLOW_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION"
fi
# `--install-only`: stop here (tests/run.sh installs in the background while the Rust stages build).
if [[ "${1:-}" == "--install-only" ]]; then exit 0; fi

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for URL SECONDS
  "$PY" - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, limit = sys.argv[1], float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit(f"{url} did not answer within {limit:.0f} s")
EOF
}

cargo build --release --quiet --bin report
REPORT="${CARGO_TARGET_DIR:-$ROOT/target}/release/report"

PORT=$(free_port)
URI="http://127.0.0.1:$PORT"
# setsid: the server and its workers form one process group, stopped together by cleanup.
setsid "$VENV/bin/mlflow" server \
  --backend-store-uri "sqlite:///$TMP/mlflow.db" --artifacts-destination "$TMP/artifacts" \
  --host 127.0.0.1 --port "$PORT" --workers 1 >"$TMP/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
if ! wait_for "$URI/health" 90; then cat "$TMP/server.log"; exit 1; fi
echo "mlflow $MLFLOW_VERSION server up at $URI"

# Two builds: the first creates the experiment, the second finds it by name.
"$REPORT" build --out "$TMP/out" --tracking-uri "$URI" | tee "$TMP/build1.txt"
MLFLOW_TRACKING_URI="$URI" "$REPORT" build --out "$TMP/out" >"$TMP/build2.txt"
grep -q "MLflow run" "$TMP/build1.txt"

"$PY" - "$URI" "$TMP/out" "$ROOT/data/customer_purchasing_behaviors.csv" <<'EOF'
import hashlib, json, os, sys, tempfile
from mlflow.tracking import MlflowClient

uri, out, data = sys.argv[1:4]
c = MlflowClient(tracking_uri=uri)
exp = c.get_experiment_by_name("customer-intel")
assert exp is not None, "experiment customer-intel missing"
runs = c.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
assert len(runs) == 2, f"expected 2 runs, got {len(runs)}"
f = json.load(open(os.path.join(out, "findings.json")))
for run in runs:
    info, d = run.info, run.data
    assert info.status == "FINISHED", info.status
    # Params: settings, seed, data hash.
    assert d.params["seed"] == "42", d.params["seed"]
    assert d.params["settings.folds"] == "5"
    assert d.params["settings.drift.batches"] == "12"
    assert d.params["data.sha256"] == hashlib.sha256(open(data, "rb").read()).hexdigest()
    # Tags.
    assert d.tags["crate_version"] == f["provenance"]["crate_version"]
    assert d.tags["mlflow.runName"].startswith("build customer_purchasing_behaviors.csv")
    # Scalar metrics equal the findings.
    for p in f["drift"]["policies"]:
        assert d.metrics[f"drift.retrains.{p['policy']}"] == p["retrains"]
        assert abs(d.metrics[f"drift.pooled_rmse.{p['policy']}"] - p["pooled_rmse"]) < 1e-9
    assert abs(d.metrics["drift.setup.reference_rmse"] - f["drift"]["setup"]["reference_rmse"]) < 1e-9
    # Stepped drift metrics: one value per batch, steps 1..12, equal to the findings.
    income = f["drift"]["setup"]["model_features"][1]
    hist = sorted(c.get_metric_history(info.run_id, f"drift.psi.{income}"), key=lambda m: m.step)
    assert [m.step for m in hist] == list(range(1, 13)), [m.step for m in hist]
    want = [b["psi"][income] for b in f["drift"]["batches"]]
    assert all(abs(m.value - w) < 1e-9 for m, w in zip(hist, want)), (hist, want)
    for p in f["drift"]["policies"]:
        h = sorted(c.get_metric_history(info.run_id, f"drift.rmse.{p['policy']}"), key=lambda m: m.step)
        assert [round(m.value, 9) for m in h] == [round(v, 9) for v in p["rmse"]]
    ks = c.get_metric_history(info.run_id, f"drift.ks.{income}")
    assert len(ks) == 12
    # Artifacts: findings.json byte-identical, every figure present.
    names = {a.path for a in c.list_artifacts(info.run_id)}
    assert "findings.json" in names, names
    with tempfile.TemporaryDirectory() as t:
        got = c.download_artifacts(info.run_id, "findings.json", t)
        assert open(got, "rb").read() == open(os.path.join(out, "findings.json"), "rb").read()
    figs_dir = os.path.join(out, "figures")
    want_figs = sorted(os.listdir(figs_dir)) if os.path.isdir(figs_dir) else []
    got_figs = sorted(os.path.basename(a.path) for a in c.list_artifacts(info.run_id, "figures"))
    assert got_figs == want_figs, (got_figs, want_figs)
n_metrics = len(runs[0].data.metrics)
print(f"ok: 2 runs in experiment {exp.experiment_id}; {len(runs[0].data.params)} params, "
      f"{n_metrics} metric keys, stepped drift metrics match findings, "
      f"artifacts: findings.json + {len(want_figs)} figures")
EOF

# Server down: report written, exit code 3, message says what failed.
kill -TERM -- "-$SERVER"
wait "$SERVER" 2>/dev/null || true
PIDS=()
set +e
"$REPORT" build --out "$TMP/down" --tracking-uri "$URI" >"$TMP/down.out" 2>"$TMP/down.err"
rc=$?
set -e
cat "$TMP/down.err"
[[ $rc -eq 3 ]] || { echo "expected exit 3 with the server down, got $rc"; exit 1; }
[[ -s "$TMP/down/findings.json" ]] || { echo "report not written with the server down"; exit 1; }
grep -q "cannot reach the MLflow tracking server" "$TMP/down.err"
echo "ok: server down -> exit 3, report written"

# A server that answers every MLflow call with an error (a plain static file server).
PORT2=$(free_port)
mkdir -p "$TMP/static"
setsid "$PY" -m http.server --bind 127.0.0.1 --directory "$TMP/static" "$PORT2" >"$TMP/static.log" 2>&1 &
PIDS+=("$!")
wait_for "http://127.0.0.1:$PORT2/" 30
set +e
MLFLOW_TRACKING_URI="http://127.0.0.1:$PORT2" "$REPORT" build --out "$TMP/err" >"$TMP/err.out" 2>"$TMP/err.err"
rc=$?
set -e
cat "$TMP/err.err"
[[ $rc -eq 3 ]] || { echo "expected exit 3 from an erroring server, got $rc"; exit 1; }
[[ -s "$TMP/err/findings.json" ]] || { echo "report not written with an erroring server"; exit 1; }
grep -q "refused to" "$TMP/err.err"
echo "ok: erroring server -> exit 3, report written"
echo "mlflow integration test passed"
