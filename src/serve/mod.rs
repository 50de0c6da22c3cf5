//! `report serve`: the saved models behind an HTTP service (axum on tokio, feature `serve`).
//!
//! The models are loaded and checked once at start ([`App::load`]); a malformed folder stops
//! the server before it binds. Routes ([`router`]):
//! - `GET /`: the dashboard (one self-contained page: what-if form, batch upload with drift
//!   summary, model card);
//! - `POST /v1/score`: a JSON array of customers (or `{"customers": [...]}`) → JSON scores;
//! - `POST /v1/score/csv`: a CSV table → the scored CSV, byte for byte what `report score` writes;
//! - `POST /v1/drift`: a CSV table or JSON customers → the drift summary ([`crate::drift`]);
//! - `GET /v1/models`: the model card as JSON; `GET /healthz`.
//!
//! Every input goes through the loader of `report build`/`report score`
//! ([`crate::data::parse_csv_bytes`]), so a bad value gets the CLI's message (line, column,
//! value, rule); JSON customers are turned into CSV lines first (customer `i` is line `i + 2`),
//! after their fields and JSON types are checked. Malformed JSON gives 400, a broken rule 422,
//! a body over the limit 413. SIGINT and SIGTERM stop the server after in-flight requests.

pub mod bench;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use thiserror::Error;

use crate::data::{self, Dataset};
use crate::models::{FORMAT_VERSION, ModelError, ProductionModels};
use crate::score::{self, ScoreError, Scores};
use crate::settings::{Roles, Settings, SettingsError};

/// Default largest request body: 16 MiB (about 300,000 customers of the bundled schema as CSV).
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

/// Errors that stop the server (all before or at binding, except a failing runtime).
#[derive(Debug, Error)]
pub enum ServeError {
    /// The settings were invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The model folder is missing, malformed or of another version.
    #[error(transparent)]
    Models(#[from] ModelError),
    /// The models do not fit the settings' roles.
    #[error(transparent)]
    Score(#[from] ScoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The runtime or the server failed.
    #[error("the server failed: {0}")]
    Runtime(std::io::Error),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The folder of model files.
    pub models: PathBuf,
    /// Where to listen (loopback by default; port 0 picks a free port).
    pub addr: SocketAddr,
    /// Largest request body in bytes; larger bodies get 413.
    pub body_limit: usize,
    /// Settings whose roles describe the inputs.
    pub settings: Settings,
}

/// The loaded models and everything the handlers share.
pub struct App {
    models: ProductionModels,
    dir: PathBuf,
    roles: Roles,
    card: Value,
    page: String,
}

/// The dashboard page; `/*CONFIG*/null` is replaced by the model card at start.
const DASHBOARD: &str = include_str!("dashboard.html");

impl App {
    /// Loads and checks the models (as `report score` does) and prepares the model card and page.
    pub fn load(models_dir: &Path, settings: &Settings) -> Result<App, ServeError> {
        settings.check()?;
        let models = ProductionModels::load(models_dir)?;
        score::check_roles(&models, models_dir, &settings.roles)?;
        let mut roles = settings.roles.clone();
        roles.target_optional = true;
        let card = model_card(&models, models_dir);
        // `Value`'s Display is its compact JSON; "</" is escaped so the page's script stays whole.
        let config = card.to_string().replace("</", "<\\/");
        let page = DASHBOARD.replace("/*CONFIG*/null", &config);
        Ok(App {
            models,
            dir: models_dir.to_path_buf(),
            roles,
            card,
            page,
        })
    }

    /// The model card served by `GET /v1/models`.
    pub fn card(&self) -> &Value {
        &self.card
    }
}

/// The model card: what each model is, its inputs, threshold, training data, versions, and the
/// cross-validated metrics of `findings.json` beside the models folder (with the baselines).
fn model_card(m: &ProductionModels, dir: &Path) -> Value {
    let s = &m.spend;
    let g = &m.growth;
    let seg = &m.segments;
    let findings_path = dir.parent().map(|p| p.join("findings.json"));
    let findings: Option<Value> = findings_path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let metrics = findings.map(|f| {
        let best = &f["regression"]["best"];
        let baseline = f["regression"]["scores"].as_array().and_then(|scores| {
            scores
                .iter()
                .find(|x| x["model"] == "mean" && x["feature_set"] == best["feature_set"])
                .cloned()
        });
        let cbest = &f["classification"]["best"];
        let cresult = cbest["result_index"]
            .as_u64()
            .and_then(|i| f["classification"]["results"].get(i as usize).cloned());
        let sg = &f["segmentation"];
        let null_at_k = sg["null"]["per_k"]
            .as_array()
            .and_then(|v| v.iter().find(|x| x["k"] == sg["chosen_k"]).cloned());
        json!({
            "source": findings_path.as_ref().map(|p| p.display().to_string()),
            "regression": { "best": best, "baseline_mean_predictor": baseline,
                            "baselines": f["regression"]["baselines"],
                            "target_sd": f["regression"]["target_sd"] },
            "classification": { "best": cbest, "best_result": cresult,
                                "baselines": f["classification"]["baselines"],
                                "label": f["classification"]["label"] },
            "segmentation": { "chosen_k": sg["chosen_k"], "k_rule": sg["k_rule"],
                              "silhouette_distinct": sg["chosen_silhouette_distinct"],
                              "silhouette_target": sg["silhouette_target"],
                              "null_method": sg["null"]["method"], "null_at_k": null_at_k },
        })
    });
    let head = |file: &str, h: &crate::models::ModelHeader| {
        json!({
            "file": file, "model": h.model, "features": h.features, "inputs": h.inputs,
            "fitted_on": h.fitted_on, "hyperparameters": h.hyperparameters,
        })
    };
    let mut spend = head(crate::models::SPEND_FILE, &s.header);
    spend["kind"] = json!(s.kind);
    spend["feature_set"] = json!(s.feature_set);
    spend["penalty"] = json!(s.penalty);
    spend["cv_r2"] = json!(s.cv_r2);
    spend["interval"] = json!(s.interval);
    spend["target"] = json!(s.header.roles.target);
    let mut growth = head(crate::models::GROWTH_FILE, &g.header);
    growth["label"] = json!(g.label);
    growth["classifier"] = json!(g.classifier.model);
    growth["smote"] = json!(g.classifier.smote);
    growth["threshold"] = json!(g.classifier.threshold);
    growth["threshold_rule"] = json!(g.classifier.threshold_rule);
    let mut segments = head(crate::models::SEGMENTS_FILE, &seg.header);
    let p = &seg.segments;
    segments["personas"] = json!(p.personas);
    segments["actions"] = json!(p.actions);
    segments["centroids_standardised"] = json!(p.centroids);
    segments["means"] = json!(p.means);
    segments["sds"] = json!(p.sds);
    segments["spend_rule"] = json!(seg.spend_rule);
    json!({
        "crate_version": env!("CARGO_PKG_VERSION"),
        "model_crate_version": s.header.crate_version,
        "format_version": FORMAT_VERSION,
        "models_dir": dir.display().to_string(),
        "training_data": s.header.training_data,
        "roles": { "id": s.header.roles.id, "target": s.header.roles.target,
                   "category": s.header.roles.category, "units": s.header.roles.units },
        "models": [spend, growth, segments],
        "profile": s.training_profile,
        "metrics": metrics,
    })
}

/// An API error: status and message, sent as `{"error": message, "status": code}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.message, "status": self.status.as_u16() });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<ScoreError> for ApiError {
    fn from(e: ScoreError) -> ApiError {
        let status = match e {
            ScoreError::Data(_) | ScoreError::Mismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

const TOO_LARGE: &str =
    "the request body is larger than the server's limit (report serve --max-body-mb)";

/// Answers 413 at once when the declared `Content-Length` is over the limit, before any of
/// the body is read (bodies without a declared length are cut at the limit while read).
async fn declared_length_limit(
    State(limit): State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE).into_response();
    }
    next.run(req).await
}

/// The request body, or 413 (over the limit) / 400 (unreadable).
fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|e| {
        let status = e.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            TOO_LARGE.to_string()
        } else {
            e.body_text()
        };
        ApiError::new(status, message)
    })
}

/// Where JSON customers appear in the loader's messages.
pub const JSON_SOURCE: &str = "request body (customers[i] is line i + 2)";
/// Where an uploaded CSV appears in the loader's messages.
pub const CSV_SOURCE: &str = "uploaded CSV";

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Turns a JSON body of customers into CSV bytes with the roles' columns, after checking the
/// fields (no unknown, none missing, the spend given for all or none) and their JSON types.
pub fn customers_csv(body: &[u8], roles: &Roles) -> Result<Vec<u8>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    let shape = "rule: the body is a JSON array of customer objects, or {\"customers\": [...]}";
    let list = match &value {
        Value::Array(a) => a,
        Value::Object(o) => match (o.get("customers"), o.len()) {
            (Some(Value::Array(a)), 1) => a,
            _ => {
                let keys: Vec<&str> = o.keys().map(String::as_str).collect();
                return Err(ApiError::invalid(format!(
                    "the body is an object with fields {keys:?}; {shape}"
                )));
            }
        },
        other => {
            return Err(ApiError::invalid(format!(
                "the body is {}; {shape}",
                json_type(other)
            )));
        }
    };
    if list.is_empty() {
        return Err(ApiError::invalid(
            "the body has no customers (rule: at least one customer)",
        ));
    }
    let numeric = roles.numeric_columns();
    let mut columns = vec![roles.id.clone()];
    columns.extend(numeric.iter().cloned());
    columns.push(roles.category.clone());
    let has_target = list
        .first()
        .and_then(Value::as_object)
        .is_some_and(|o| o.contains_key(&roles.target));
    let fields = columns.join(", ");
    let header: Vec<&String> = columns
        .iter()
        .filter(|c| has_target || **c != roles.target)
        .collect();
    let mut csv = header
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(",");
    csv.push('\n');
    for (i, rec) in list.iter().enumerate() {
        let obj = rec.as_object().ok_or_else(|| {
            ApiError::invalid(format!(
                "customers[{i}] is {}, not an object (rule: each customer is an object with the fields {fields})",
                json_type(rec)
            ))
        })?;
        if let Some(unknown) = obj.keys().find(|k| !columns.contains(k)) {
            return Err(ApiError::invalid(format!(
                "customers[{i}] has the unknown field '{unknown}' (rule: the fields are {fields}; '{}' may be left out)",
                roles.target
            )));
        }
        if obj.contains_key(&roles.target) != has_target {
            return Err(ApiError::invalid(format!(
                "customers[{i}] {} the field '{}' but customers[0] {} (rule: give the spend for every customer or for none)",
                if has_target { "lacks" } else { "has" },
                roles.target,
                if has_target { "has it" } else { "does not" }
            )));
        }
        let mut cells = Vec::with_capacity(header.len());
        for c in &header {
            let v = obj.get(*c).ok_or_else(|| {
                ApiError::invalid(format!(
                    "customers[{i}] is missing the field '{c}' (rule: the fields are {fields}; '{}' may be left out)",
                    roles.target
                ))
            })?;
            let wrong = |rule: &str| {
                ApiError::invalid(format!(
                    "customers[{i}].{c} is {} ({v}); rule: {rule}",
                    json_type(v)
                ))
            };
            let cell = if **c == roles.id {
                match v {
                    Value::String(s) => quote(s),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(wrong("a string or a number")),
                }
            } else if **c == roles.category {
                match v {
                    Value::String(s) => quote(s),
                    _ => return Err(wrong("a string, one of the category's levels")),
                }
            } else {
                match v {
                    Value::Number(n) => n.to_string(),
                    _ => return Err(wrong("a JSON number")),
                }
            };
            cells.push(cell);
        }
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    Ok(csv.into_bytes())
}

fn parse(bytes: &[u8], source: &str, roles: &Roles) -> Result<Dataset, ApiError> {
    data::parse_csv_bytes(bytes, Path::new(source), roles)
        .map_err(|e| ApiError::invalid(e.to_string()))
}

/// Parses a body as JSON customers when it starts with `[` or `{`, else as CSV.
fn parse_any(bytes: &[u8], roles: &Roles) -> Result<Dataset, ApiError> {
    let first = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF);
    match first {
        Some(b'[') | Some(b'{') => parse(&customers_csv(bytes, roles)?, JSON_SOURCE, roles),
        _ => parse(bytes, CSV_SOURCE, roles),
    }
}

fn scores_json(app: &App, s: &Scores) -> Value {
    let seg = &app.models.segments.segments;
    let list: Vec<Value> = (0..s.ids.len())
        .map(|i| {
            json!({
                "id": s.ids[i],
                "predicted_spend": s.predicted[i],
                "spend_lower": s.lower[i],
                "spend_upper": s.upper[i],
                "growth_probability": s.probability[i],
                "growth_flag": s.flag[i],
                "segment": s.segment[i],
                "persona": seg.personas[s.segment[i]],
                "action": seg.actions[s.segment[i]],
            })
        })
        .collect();
    json!({
        "interval_level": app.models.spend.interval.level,
        "threshold": app.models.growth.classifier.threshold,
        "scores": list,
    })
}

fn score_all(app: &App, ds: &Dataset) -> Result<Scores, ApiError> {
    Ok(score::score_rows(
        &app.models,
        &app.dir,
        ds,
        0..ds.n_rows(),
    )?)
}

async fn dashboard(State(app): State<Arc<App>>) -> Html<String> {
    Html(app.page.clone())
}

async fn healthz(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "status": "ok",
        "training_data_sha256": app.models.spend.header.training_data.sha256,
        "crate_version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn models(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(app.card.clone())
}

/// Bodies up to this size are handled on the async worker; larger ones (batches) on tokio's
/// blocking pool, so a long batch does not hold up the small requests behind it.
const INLINE_BODY: usize = 64 << 10;

/// Runs `f` inline for a small body, else on the blocking pool (a panic there becomes a 500).
async fn work<T: Send + 'static>(
    size: usize,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    if size <= INLINE_BODY {
        return f();
    }
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request failed inside the server: {e}"),
        )
    })?
}

async fn score_json(
    State(app): State<Arc<App>>,
    b: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let b = body(b)?;
    work(b.len(), move || {
        let csv = customers_csv(&b, &app.roles)?;
        let ds = parse(&csv, JSON_SOURCE, &app.roles)?;
        let s = score_all(&app, &ds)?;
        Ok(axum::Json(scores_json(&app, &s)))
    })
    .await
}

async fn score_csv(
    State(app): State<Arc<App>>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b = body(b)?;
    let out = work(b.len(), move || {
        let ds = parse(&b, CSV_SOURCE, &app.roles)?;
        let s = score_all(&app, &ds)?;
        score::csv_bytes(&app.models, &ds.roles.id, &s)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

async fn drift(
    State(app): State<Arc<App>>,
    b: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let b = body(b)?;
    work(b.len(), move || {
        let ds = parse_any(&b, &app.roles)?;
        let report = crate::drift::compare(
            &app.models.spend.training_profile,
            &ds.numeric,
            &ds.category,
        );
        Ok(axum::Json(json!(report)))
    })
    .await
}

/// The service's routes over a loaded [`App`], with the body limit.
pub fn router(app: Arc<App>, body_limit: usize) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/healthz", get(healthz))
        .route("/v1/models", get(models))
        .route("/v1/score", post(score_json))
        .route("/v1/score/csv", post(score_csv))
        .route("/v1/drift", post(drift))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            body_limit,
            declared_length_limit,
        ))
        .with_state(app)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Loads the models, binds, calls `ready` with the bound address, and serves until SIGINT or
/// SIGTERM (then finishes in-flight requests and returns).
pub fn run(opts: &ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let app = Arc::new(App::load(&opts.models, &opts.settings)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(ServeError::Runtime)?;
        ready(addr);
        axum::serve(listener, router(app, opts.body_limit))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(ServeError::Runtime)
    })
}
