//! Experiment tracking: every `report build` is a run with parameters (settings, seed, data hash),
//! metrics (every headline score, and the drift timeline as metrics with steps), tags (crate
//! version, git commit) and artifacts (`findings.json`, figures, rendered reports).
//!
//! The run's content ([`RunRecord`]) is derived from [`Findings`] alone and is deterministic;
//! only the act of logging adds wall-clock times. Where it goes is a [`Tracking`] target:
//! - [`Tracking::Local`] (the default): one JSON document per run in a git-ignored folder
//!   (`.tracking/runs/`), artifacts stored once by content hash (`.tracking/artifacts/`). Nothing is
//!   written next to the committed outputs, so tracking never makes them non-deterministic.
//! - [`Tracking::Mlflow`]: an MLflow tracking server through its REST API 2.0 ([`MlflowClient`]):
//!   get or create the experiment, create the run, log in batches within MLflow's request limits,
//!   upload artifacts through the server's artifact proxy, and mark the run finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};
use thiserror::Error;

use crate::data::sha256_hex;
use crate::findings::Findings;
use crate::provenance::GitCommit;

/// Default experiment name, locally and on an MLflow server.
pub const DEFAULT_EXPERIMENT: &str = "customer-intel";
/// Default folder of the local run log (git-ignored).
pub const DEFAULT_LOCAL_DIR: &str = ".tracking";
/// Environment variable naming an MLflow server when no `--tracking-uri` is given.
pub const TRACKING_URI_ENV: &str = "MLFLOW_TRACKING_URI";

/// MLflow's limits for one `runs/log-batch` request (`mlflow/utils/validation.py`).
pub const MAX_METRICS_PER_BATCH: usize = 1000;
/// At most this many params (and, separately, tags) per `runs/log-batch` request.
pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
/// At most this many metrics, params and tags together per `runs/log-batch` request.
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
/// Longest param value MLflow keeps; longer values are cut (and marked) before sending.
pub const MAX_PARAM_VALUE: usize = 6000;
/// Longest metric, param or tag key MLflow accepts.
pub const MAX_KEY: usize = 250;
/// Arrays in findings longer than this are series, not headline scores: they are not flattened
/// into metrics (the drift timeline is logged as stepped metrics instead).
pub const MAX_FLATTENED_ARRAY: usize = 16;

/// Where runs are recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracking {
    /// Record nothing.
    Off,
    /// One JSON document per run under this folder.
    Local(PathBuf),
    /// An MLflow tracking server.
    Mlflow {
        /// Base URI, `http://HOST:PORT`.
        uri: String,
        /// Experiment name (created when missing).
        experiment: String,
    },
}

impl Tracking {
    /// The target for an optional `--tracking-uri` (falling back to `MLFLOW_TRACKING_URI`):
    /// an MLflow server when one is named, the local run log otherwise.
    pub fn from_uri(uri: Option<String>) -> Tracking {
        let uri = uri
            .or_else(|| std::env::var(TRACKING_URI_ENV).ok())
            .filter(|u| !u.trim().is_empty());
        match uri {
            Some(u) => Tracking::Mlflow {
                uri: u.trim().trim_end_matches('/').to_string(),
                experiment: DEFAULT_EXPERIMENT.into(),
            },
            None => Tracking::Local(PathBuf::from(DEFAULT_LOCAL_DIR)),
        }
    }
}

/// Errors of tracking. The report is already written when these happen.
#[derive(Debug, Clone, Error)]
pub enum TrackingError {
    /// The URI is not one this client can talk to.
    #[error(
        "unsupported tracking URI '{0}': give http://HOST:PORT of an MLflow server (https needs TLS, which this build leaves out)"
    )]
    BadUri(String),
    /// No connection (server down, wrong port, timeout).
    #[error(
        "cannot reach the MLflow tracking server at {url} to {step}: {reason}; is `mlflow server` running there?"
    )]
    Unreachable {
        /// What the client was doing.
        step: &'static str,
        /// The request URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("the MLflow tracking server at {url} refused to {step}: HTTP {status}: {body}")]
    Server {
        /// What the client was doing.
        step: &'static str,
        /// The request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The response body (MLflow's error_code and message), shortened.
        body: String,
    },
    /// The server answered 200 with something unexpected.
    #[error("the MLflow tracking server at {url} gave an unexpected answer to {step}: {detail}")]
    Protocol {
        /// What the client was doing.
        step: &'static str,
        /// The request URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The run's artifact location is not served by the tracking server's artifact proxy.
    #[error(
        "run artifacts go to '{0}', which is not proxied by the tracking server; start it with --artifacts-destination (or --serve-artifacts)"
    )]
    NoArtifactProxy(String),
    /// Reading an artifact or writing the local run log failed.
    #[error("cannot {what} '{path}': {reason}")]
    Io {
        /// What was attempted.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
}

/// One metric value; `step` orders values of the same key (MLflow's metric history).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricPoint {
    /// Metric name (MLflow-safe characters only).
    pub key: String,
    /// Value (finite).
    pub value: f64,
    /// Step: 0 for scalar scores, the batch number for the drift timeline, the noise level in
    /// percent for robustness curves.
    pub step: i64,
}

/// A file logged with the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Artifact {
    /// Path inside the run's artifacts, `/`-separated (e.g. `figures/drift_timeline.svg`).
    pub path: String,
    /// The file on disk.
    pub file: PathBuf,
}

/// Everything a run records, derived deterministically from the findings and the files written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Experiment name.
    pub experiment: String,
    /// Human-readable run name (`build <data file> seed <seed>`).
    pub run_name: String,
    /// Parameters: flattened settings, seed, data provenance.
    pub params: BTreeMap<String, String>,
    /// Metrics, scalar and stepped.
    pub metrics: Vec<MetricPoint>,
    /// Tags: crate version, git commit, data hash.
    pub tags: BTreeMap<String, String>,
    /// Files to attach.
    pub artifacts: Vec<Artifact>,
}

/// Where a run was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackedRun {
    /// The local run document.
    Local {
        /// Path of the JSON document.
        document: PathBuf,
    },
    /// A run on an MLflow server.
    Mlflow {
        /// Experiment id.
        experiment_id: String,
        /// Run id.
        run_id: String,
        /// Link to the run in the server's UI.
        url: String,
    },
}

impl std::fmt::Display for TrackedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrackedRun::Local { document } => write!(f, "run logged to {}", document.display()),
            TrackedRun::Mlflow { run_id, url, .. } => write!(f, "MLflow run {run_id}: {url}"),
        }
    }
}

/// Makes a key MLflow accepts: characters outside `[A-Za-z0-9_./ :-]` become `_`, at most
/// [`MAX_KEY`] bytes.
pub fn sanitize_key(key: &str) -> String {
    let mut s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_./ :-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.truncate(MAX_KEY);
    s
}

/// Flattens a JSON value into dotted keys: objects by field name, arrays by index.
/// `keep` decides, per object key, whether to descend into it.
fn flatten(
    prefix: &str,
    v: &Value,
    out: &mut Vec<(String, Value)>,
    keep: &dyn Fn(&str, &Value) -> bool,
) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if keep(k, x) {
                    flatten(&join(k), x, out, keep);
                }
            }
        }
        Value::Array(a) if a.len() <= MAX_FLATTENED_ARRAY => {
            for (i, x) in a.iter().enumerate() {
                flatten(&join(&i.to_string()), x, out, keep);
            }
        }
        Value::Array(_) => {}
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// The settings as params: one per leaf, arrays kept whole as JSON text.
fn params_of(findings: &Findings) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let settings = serde_json::to_value(&findings.provenance.settings).expect("settings serialise");
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    walk(&format!("{prefix}.{k}"), x, out);
                }
            }
            Value::String(s) => {
                out.insert(sanitize_key(prefix), s.clone());
            }
            other => {
                out.insert(sanitize_key(prefix), other.to_string());
            }
        }
    }
    walk("settings", &settings, &mut params);
    let p = &findings.provenance;
    params.insert("seed".into(), p.seed.to_string());
    params.insert("data.source".into(), p.data.source.clone());
    params.insert("data.rows".into(), p.data.rows.to_string());
    params.insert("data.sha256".into(), p.data.sha256.clone());
    for v in params.values_mut() {
        if v.len() > MAX_PARAM_VALUE {
            let mut cut = MAX_PARAM_VALUE - 16;
            while !v.is_char_boundary(cut) {
                cut -= 1;
            }
            v.truncate(cut);
            v.push_str("…(truncated)");
        }
    }
    params
}

/// Scalar metrics: every finite number in the findings except provenance, settings echoes and
/// long series (arrays over [`MAX_FLATTENED_ARRAY`] items), at step 0.
fn scalar_metrics(findings: &Findings) -> Vec<MetricPoint> {
    let v = serde_json::to_value(findings).expect("findings serialise");
    let mut flat = Vec::new();
    let keep = |k: &str, _: &Value| !matches!(k, "provenance" | "settings" | "findings_version");
    flatten("", &v, &mut flat, &keep);
    // The drift timeline is logged with steps instead.
    flat.retain(|(k, _)| !k.starts_with("drift.batches") && !k.starts_with("drift.policies"));
    flat.into_iter()
        .filter_map(|(k, x)| {
            let value = match x {
                Value::Number(n) => n.as_f64()?,
                Value::Bool(b) => f64::from(u8::from(b)),
                _ => return None,
            };
            value.is_finite().then(|| MetricPoint {
                key: sanitize_key(&k),
                value,
                step: 0,
            })
        })
        .collect()
}

/// The drift timeline (step = batch) and the robustness curves (step = noise % of sd).
fn stepped_metrics(findings: &Findings) -> Vec<MetricPoint> {
    let mut out = Vec::new();
    let mut push = |key: String, value: f64, step: i64| {
        if value.is_finite() {
            out.push(MetricPoint {
                key: sanitize_key(&key),
                value,
                step,
            });
        }
    };
    let d = &findings.drift;
    for b in &d.batches {
        let step = b.batch as i64;
        for (f, v) in &b.psi {
            push(format!("drift.psi.{f}"), *v, step);
        }
        for (f, v) in &b.ks {
            push(format!("drift.ks.{f}"), *v, step);
        }
        push("drift.max_psi".into(), b.max_psi, step);
    }
    for p in &d.policies {
        let name = p.policy.name();
        for (t, (&r, &c)) in p.rmse.iter().zip(&p.cumulative_rmse).enumerate() {
            let step = t as i64 + 1;
            push(format!("drift.rmse.{name}"), r, step);
            push(format!("drift.cumulative_rmse.{name}"), c, step);
            push(
                format!("drift.model_version.{name}"),
                p.model_version[t] as f64,
                step,
            );
        }
        push(format!("drift.retrains.{name}"), p.retrains as f64, 0);
        push(format!("drift.pooled_rmse.{name}"), p.pooled_rmse, 0);
    }
    for s in robustness_series(findings) {
        push(s.0, s.2, s.1);
    }
    out
}

/// Robustness curves as (key, step = noise % of sd, mean score).
fn robustness_series(findings: &Findings) -> Vec<(String, i64, f64)> {
    findings
        .robustness
        .curves
        .iter()
        .flat_map(|c| {
            c.points.iter().map(move |p| {
                (
                    format!("robustness.{}.{}", c.score, c.noise_on.name()),
                    (p.level * 100.0).round() as i64,
                    p.mean,
                )
            })
        })
        .collect()
}

impl RunRecord {
    /// The run for a build: `files` are the files it wrote; those under `out_dir` become
    /// artifacts (paths relative to `out_dir`). Tags include the git commit of the current
    /// folder when `git` can tell it.
    pub fn new(findings: &Findings, files: &[PathBuf], out_dir: &Path) -> RunRecord {
        let p = &findings.provenance;
        let mut tags = BTreeMap::new();
        tags.insert("crate_version".to_string(), p.crate_version.clone());
        tags.insert("data.sha256".to_string(), p.data.sha256.clone());
        tags.insert("mlflow.source.name".to_string(), "report build".to_string());
        tags.insert("mlflow.source.type".to_string(), "LOCAL".to_string());
        if let Some(c) = GitCommit::current() {
            tags.insert("git_commit".to_string(), c.id.clone());
            tags.insert("mlflow.source.git.commit".to_string(), c.id);
        }
        let mut artifacts: Vec<Artifact> = files
            .iter()
            .filter_map(|f| {
                let rel = f.strip_prefix(out_dir).ok()?;
                let path = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                Some(Artifact {
                    path,
                    file: f.clone(),
                })
            })
            .collect();
        artifacts.sort_by(|a, b| a.path.cmp(&b.path));
        let mut metrics = scalar_metrics(findings);
        metrics.extend(stepped_metrics(findings));
        let source = Path::new(&p.data.source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        RunRecord {
            experiment: DEFAULT_EXPERIMENT.into(),
            run_name: format!("build {source} seed {}", p.seed),
            params: params_of(findings),
            metrics,
            tags,
            artifacts,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_artifact(a: &Artifact) -> Result<Vec<u8>, TrackingError> {
    std::fs::read(&a.file).map_err(|e| TrackingError::Io {
        what: "read artifact",
        path: a.file.clone(),
        reason: e.to_string(),
    })
}

/// Records a run at `target`. `Ok(None)` when tracking is off.
pub fn track(target: &Tracking, record: &RunRecord) -> Result<Option<TrackedRun>, TrackingError> {
    match target {
        Tracking::Off => Ok(None),
        Tracking::Local(dir) => log_local(dir, record).map(Some),
        Tracking::Mlflow { uri, experiment } => {
            let client = MlflowClient::new(uri)?;
            client.log_run(experiment, record).map(Some)
        }
    }
}

/// Writes the run as one JSON document `DIR/runs/<start ms>-<hash>.json`; artifacts are stored
/// once each under `DIR/artifacts/<sha256>` and referenced by hash from the document.
pub fn log_local(dir: &Path, record: &RunRecord) -> Result<TrackedRun, TrackingError> {
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| TrackingError::Io {
            what,
            path,
            reason: e.to_string(),
        }
    };
    let start = now_ms();
    let blobs = dir.join("artifacts");
    std::fs::create_dir_all(&blobs).map_err(io("create folder", &blobs))?;
    let mut artifacts = Vec::new();
    for a in &record.artifacts {
        let bytes = read_artifact(a)?;
        let hash = sha256_hex(&bytes);
        let blob = blobs.join(&hash);
        if !blob.exists() {
            crate::output::write_atomic(&blob, &bytes).map_err(io("write artifact", &blob))?;
        }
        artifacts
            .push(json!({"path": a.path, "sha256": hash, "bytes": bytes.len(), "source": a.file}));
    }
    let doc = json!({
        "experiment": record.experiment,
        "run_name": record.run_name,
        "start_time_ms": start,
        "end_time_ms": now_ms(),
        "status": "FINISHED",
        "params": record.params,
        "metrics": record.metrics,
        "tags": record.tags,
        "artifacts": artifacts,
    });
    let text = serde_json::to_string_pretty(&doc).expect("run document serialises");
    let id = format!("{start}-{}", &sha256_hex(text.as_bytes())[..8]);
    let path = dir.join("runs").join(format!("{id}.json"));
    crate::output::write_atomic(&path, text.as_bytes()).map_err(io("write run document", &path))?;
    Ok(TrackedRun::Local { document: path })
}

/// Splits params, metrics and tags into `runs/log-batch` payloads within MLflow's limits:
/// at most [`MAX_PARAMS_TAGS_PER_BATCH`] params and as many tags, at most
/// [`MAX_METRICS_PER_BATCH`] metrics, and at most [`MAX_ENTITIES_PER_BATCH`] items in all.
pub fn log_batches(
    params: &[(String, String)],
    metrics: &[MetricPoint],
    tags: &[(String, String)],
) -> Vec<(
    Vec<(String, String)>,
    Vec<MetricPoint>,
    Vec<(String, String)>,
)> {
    let mut batches = Vec::new();
    let (mut p, mut m, mut t) = (0, 0, 0);
    while p < params.len() || m < metrics.len() || t < tags.len() {
        let np = (params.len() - p).min(MAX_PARAMS_TAGS_PER_BATCH);
        let nt = (tags.len() - t).min(MAX_PARAMS_TAGS_PER_BATCH);
        let nm = (metrics.len() - m)
            .min(MAX_METRICS_PER_BATCH)
            .min(MAX_ENTITIES_PER_BATCH - np - nt);
        batches.push((
            params[p..p + np].to_vec(),
            metrics[m..m + nm].to_vec(),
            tags[t..t + nt].to_vec(),
        ));
        p += np;
        m += nm;
        t += nt;
    }
    batches
}

/// A minimal client of the MLflow tracking server's REST API 2.0 (plain HTTP, blocking).
#[derive(Debug)]
pub struct MlflowClient {
    base: String,
    agent: ureq::Agent,
}

impl MlflowClient {
    /// A client for `http://HOST:PORT` (a trailing slash is ignored). Requests time out after
    /// 30 s, connections after 5 s.
    pub fn new(uri: &str) -> Result<MlflowClient, TrackingError> {
        let base = uri.trim().trim_end_matches('/').to_string();
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| TrackingError::BadUri(uri.to_string()))?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(TrackingError::BadUri(uri.to_string()));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        Ok(MlflowClient {
            base,
            agent: ureq::Agent::new_with_config(config),
        })
    }

    fn answer(
        &self,
        step: &'static str,
        url: String,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, TrackingError> {
        let mut resp = result.map_err(|e| TrackingError::Unreachable {
            step,
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        if !(200..300).contains(&status) {
            let mut body = body.split_whitespace().collect::<Vec<_>>().join(" ");
            if body.len() > 400 {
                let mut cut = 400;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                body.truncate(cut);
                body.push('…');
            }
            return Err(TrackingError::Server {
                step,
                url,
                status,
                body,
            });
        }
        if body.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(&body).map_err(|e| TrackingError::Protocol {
            step,
            url,
            detail: format!("not JSON: {e}"),
        })
    }

    fn post(
        &self,
        step: &'static str,
        endpoint: &str,
        body: &Value,
    ) -> Result<Value, TrackingError> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let r = self.agent.post(&url).send_json(body);
        self.answer(step, url, r)
    }

    /// The id of the experiment `name`, created if it does not exist.
    pub fn experiment_id(&self, name: &str) -> Result<String, TrackingError> {
        let step = "look up the experiment";
        let url = format!("{}/api/2.0/mlflow/experiments/get-by-name", self.base);
        let r = self.agent.get(&url).query("experiment_name", name).call();
        match self.answer(step, url.clone(), r) {
            Ok(v) => str_field(&v, &["experiment", "experiment_id"], step, &url),
            Err(TrackingError::Server { status: 404, .. }) => {
                let step = "create the experiment";
                let v = self.post(step, "experiments/create", &json!({ "name": name }))?;
                str_field(&v, &["experiment_id"], step, &url)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a run; returns its id and artifact URI.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        start_ms: i64,
        tags: &[(String, String)],
    ) -> Result<(String, String), TrackingError> {
        let step = "create the run";
        let tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        let body = json!({"experiment_id": experiment_id, "run_name": run_name, "start_time": start_ms, "tags": tags});
        let v = self.post(step, "runs/create", &body)?;
        let url = format!("{}/api/2.0/mlflow/runs/create", self.base);
        let run_id = str_field(&v, &["run", "info", "run_id"], step, &url)?;
        let artifact_uri = str_field(&v, &["run", "info", "artifact_uri"], step, &url)?;
        Ok((run_id, artifact_uri))
    }

    /// Logs params, metrics and tags in as many `runs/log-batch` requests as the limits need.
    pub fn log(
        &self,
        run_id: &str,
        params: &[(String, String)],
        metrics: &[MetricPoint],
        tags: &[(String, String)],
        timestamp_ms: i64,
    ) -> Result<usize, TrackingError> {
        let kv = |v: &[(String, String)]| {
            v.iter()
                .map(|(k, x)| json!({"key": k, "value": x}))
                .collect::<Vec<_>>()
        };
        let batches = log_batches(params, metrics, tags);
        for (p, m, t) in &batches {
            let metrics: Vec<Value> = m
                .iter()
                .map(|x| json!({"key": x.key, "value": x.value, "timestamp": timestamp_ms, "step": x.step}))
                .collect();
            let body =
                json!({"run_id": run_id, "params": kv(p), "metrics": metrics, "tags": kv(t)});
            self.post("log params, metrics and tags", "runs/log-batch", &body)?;
        }
        Ok(batches.len())
    }

    /// Uploads one artifact through the server's artifact proxy
    /// (`PUT /api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>`).
    pub fn upload_artifact(
        &self,
        artifact_uri: &str,
        path: &str,
        bytes: &[u8],
    ) -> Result<(), TrackingError> {
        let root = artifact_uri
            .strip_prefix("mlflow-artifacts:")
            .map(|r| r.trim_start_matches('/'))
            .ok_or_else(|| TrackingError::NoArtifactProxy(artifact_uri.to_string()))?;
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}/{}",
            self.base,
            root.trim_end_matches('/'),
            path
        );
        let content_type = if path.ends_with(".json") {
            "application/json"
        } else if path.ends_with(".svg") {
            "image/svg+xml"
        } else if path.ends_with(".html") {
            "text/html"
        } else {
            "application/octet-stream"
        };
        let r = self.agent.put(&url).content_type(content_type).send(bytes);
        self.answer("upload an artifact", url, r).map(|_| ())
    }

    /// Sets the run's final status (`FINISHED` or `FAILED`) and end time.
    pub fn finish_run(&self, run_id: &str, status: &str, end_ms: i64) -> Result<(), TrackingError> {
        let body = json!({"run_id": run_id, "status": status, "end_time": end_ms});
        self.post("finish the run", "runs/update", &body)
            .map(|_| ())
    }

    /// The whole run: experiment, run, batches of params/metrics/tags, artifacts, finish. If a
    /// step fails after the run exists, the run is marked `FAILED` (best effort) and the first
    /// error is returned.
    pub fn log_run(
        &self,
        experiment: &str,
        record: &RunRecord,
    ) -> Result<TrackedRun, TrackingError> {
        let experiment_id = self.experiment_id(experiment)?;
        let start = now_ms();
        let tags: Vec<(String, String)> = record
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (run_id, artifact_uri) =
            self.create_run(&experiment_id, &record.run_name, start, &tags)?;
        let result = (|| {
            let params: Vec<(String, String)> = record
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            self.log(&run_id, &params, &record.metrics, &[], start)?;
            for a in &record.artifacts {
                self.upload_artifact(&artifact_uri, &a.path, &read_artifact(a)?)?;
            }
            self.finish_run(&run_id, "FINISHED", now_ms())
        })();
        if let Err(e) = result {
            let _ = self.finish_run(&run_id, "FAILED", now_ms());
            return Err(e);
        }
        Ok(TrackedRun::Mlflow {
            url: format!("{}/#/experiments/{experiment_id}/runs/{run_id}", self.base),
            experiment_id,
            run_id,
        })
    }
}

fn str_field(
    v: &Value,
    path: &[&str],
    step: &'static str,
    url: &str,
) -> Result<String, TrackingError> {
    let mut x = v;
    for p in path {
        x = x.get(p).ok_or_else(|| TrackingError::Protocol {
            step,
            url: url.to_string(),
            detail: format!("no '{}' in the answer", path.join(".")),
        })?;
    }
    x.as_str()
        .map(str::to_string)
        .ok_or_else(|| TrackingError::Protocol {
            step,
            url: url.to_string(),
            detail: format!("'{}' is not a string", path.join(".")),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SynthSpec, synth};
    use crate::settings::Settings;

    fn findings() -> Findings {
        crate::pipeline::analyze(&synth(200, 5, &SynthSpec::default()), &Settings::default())
    }

    fn point(i: usize) -> MetricPoint {
        MetricPoint {
            key: format!("m{i}"),
            value: i as f64,
            step: 0,
        }
    }

    #[test]
    fn batches_respect_mlflow_limits_and_lose_nothing() {
        let params: Vec<(String, String)> =
            (0..250).map(|i| (format!("p{i}"), "v".into())).collect();
        let tags: Vec<(String, String)> = (0..30).map(|i| (format!("t{i}"), "v".into())).collect();
        let metrics: Vec<MetricPoint> = (0..2345).map(point).collect();
        let batches = log_batches(&params, &metrics, &tags);
        for (p, m, t) in &batches {
            assert!(p.len() <= MAX_PARAMS_TAGS_PER_BATCH && t.len() <= MAX_PARAMS_TAGS_PER_BATCH);
            assert!(m.len() <= MAX_METRICS_PER_BATCH);
            assert!(p.len() + m.len() + t.len() <= MAX_ENTITIES_PER_BATCH);
        }
        // First batch: 100 params + 30 tags leave room for 870 metrics.
        assert_eq!(
            (batches[0].0.len(), batches[0].1.len(), batches[0].2.len()),
            (100, 870, 30)
        );
        let all_m: Vec<MetricPoint> = batches.iter().flat_map(|b| b.1.clone()).collect();
        assert_eq!(all_m, metrics, "every metric once, in order");
        let all_p: Vec<(String, String)> = batches.iter().flat_map(|b| b.0.clone()).collect();
        assert_eq!(all_p, params);
        assert_eq!(batches.iter().map(|b| b.2.len()).sum::<usize>(), 30);
        // 2345 metrics with 250 params: 870 + 900 + 575 → 3 batches.
        assert_eq!(batches.len(), 3);
        assert!(log_batches(&[], &[], &[]).is_empty());
    }

    #[test]
    fn keys_are_made_mlflow_safe() {
        assert_eq!(
            sanitize_key("drift.psi.annual income"),
            "drift.psi.annual income"
        );
        assert_eq!(sanitize_key("a[0]→b"), "a_0__b");
        assert_eq!(sanitize_key(&"x".repeat(300)).len(), MAX_KEY);
    }

    #[test]
    fn record_holds_settings_scores_and_the_stepped_drift_timeline() {
        let f = findings();
        let dir = Path::new("/out");
        let files = vec![
            dir.join("findings.json"),
            dir.join("figures/a.svg"),
            PathBuf::from("README.md"),
        ];
        let r = RunRecord::new(&f, &files, dir);
        assert_eq!(r, RunRecord::new(&f, &files, dir), "deterministic");
        assert_eq!(r.params["seed"], "42");
        assert_eq!(r.params["settings.folds"], "5");
        assert_eq!(r.params["settings.drift.psi_alarm"], "0.2");
        assert_eq!(
            r.params["settings.roles.numeric"],
            r#"["age","annual_income","loyalty_score","purchase_frequency"]"#
        );
        assert_eq!(r.params["data.sha256"], f.provenance.data.sha256);
        assert_eq!(r.tags["crate_version"], env!("CARGO_PKG_VERSION"));
        // Only files under the output folder are artifacts, with relative '/' paths.
        let paths: Vec<&str> = r.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, vec!["figures/a.svg", "findings.json"]);
        // The PSI timeline: one point per batch, steps 1..=12, values from the findings.
        let psi: Vec<&MetricPoint> = r
            .metrics
            .iter()
            .filter(|m| m.key == "drift.psi.annual_income")
            .collect();
        assert_eq!(
            psi.iter().map(|m| m.step).collect::<Vec<_>>(),
            (1..=12).collect::<Vec<i64>>()
        );
        assert_eq!(psi[11].value, f.drift.batches[11].psi["annual_income"]);
        let retrains = r
            .metrics
            .iter()
            .find(|m| m.key == "drift.retrains.every_batch")
            .unwrap();
        assert_eq!(retrains.value, f.drift.policies[1].retrains as f64);
        // Scalars: no settings echoes, no long series, no duplicate keys at step 0.
        let scalars: Vec<&str> = r
            .metrics
            .iter()
            .filter(|m| m.step == 0)
            .map(|m| m.key.as_str())
            .collect();
        assert!(scalars.contains(&"drift.setup.reference_rmse"));
        assert!(
            !scalars
                .iter()
                .any(|k| k.contains("settings") || k.starts_with("drift.batches"))
        );
        let mut unique = scalars.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), scalars.len());
        assert!(r.metrics.iter().all(|m| m.value.is_finite()));
    }

    #[test]
    fn local_log_writes_one_document_and_stores_artifacts_once() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("findings.json"), "{}\n").unwrap();
        let f = findings();
        let r = RunRecord::new(&f, &[out.join("findings.json")], &out);
        let log = tmp.path().join(".tracking");
        let TrackedRun::Local { document } =
            track(&Tracking::Local(log.clone()), &r).unwrap().unwrap()
        else {
            panic!("expected a local run")
        };
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&document).unwrap()).unwrap();
        assert_eq!(doc["params"]["seed"], "42");
        assert_eq!(doc["status"], "FINISHED");
        let hash = doc["artifacts"][0]["sha256"].as_str().unwrap();
        assert_eq!(hash, sha256_hex(b"{}\n"));
        assert_eq!(
            std::fs::read(log.join("artifacts").join(hash)).unwrap(),
            b"{}\n"
        );
        // A second run adds a document, not a second copy of the same artifact.
        std::thread::sleep(Duration::from_millis(2));
        track(&Tracking::Local(log.clone()), &r).unwrap();
        assert_eq!(std::fs::read_dir(log.join("runs")).unwrap().count(), 2);
        assert_eq!(std::fs::read_dir(log.join("artifacts")).unwrap().count(), 1);
        assert_eq!(track(&Tracking::Off, &r).unwrap(), None);
    }

    #[test]
    fn bad_uris_and_unreachable_servers_are_reported() {
        for bad in [
            "https://example.org",
            "localhost:5000",
            "http://",
            "file:///tmp/x",
        ] {
            assert!(
                matches!(MlflowClient::new(bad), Err(TrackingError::BadUri(_))),
                "{bad}"
            );
        }
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = MlflowClient::new(&format!("http://127.0.0.1:{port}/")).unwrap();
        let err = c.experiment_id("x").unwrap_err();
        assert!(
            matches!(
                err,
                TrackingError::Unreachable {
                    step: "look up the experiment",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }

    #[test]
    fn uri_selection() {
        assert_eq!(
            Tracking::from_uri(Some("http://127.0.0.1:5000/".into())),
            Tracking::Mlflow {
                uri: "http://127.0.0.1:5000".into(),
                experiment: DEFAULT_EXPERIMENT.into()
            }
        );
    }
}
