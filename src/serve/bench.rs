//! The service's bounded load benchmark (`report bench --serve`): the router runs on its own
//! tokio runtime in this process on a loopback ephemeral port, and a fixed number of client
//! threads (blocking HTTP/1.1 keep-alive connections, ureq) send a fixed number of requests:
//! single-customer `POST /v1/score` requests, then 1,000-customer ones. Client and server share
//! the machine's cores, so the figures are a floor for a server with the cores to itself.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::data::{self, Dataset};
use crate::settings::Settings;

use super::{App, DEFAULT_BODY_LIMIT, router};

/// The figures of one load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadResult {
    /// What was sent.
    pub name: String,
    /// Customers per request.
    pub customers_per_request: usize,
    /// Requests sent.
    pub requests: usize,
    /// Client threads (each one connection).
    pub concurrency: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Customers scored per second.
    pub customers_per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Largest latency, milliseconds.
    pub max_ms: f64,
    /// Requests that failed or did not return 200.
    pub errors: usize,
}

/// The whole benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    /// Logical CPUs the process may use.
    pub cpus: usize,
    /// Resident memory after loading the models, before any request (KiB).
    pub rss_before_kib: u64,
    /// Resident memory after the loads (KiB).
    pub rss_after_kib: u64,
    /// Peak resident memory of the process (KiB; includes the client threads).
    pub rss_peak_kib: u64,
    /// One entry per load.
    pub loads: Vec<LoadResult>,
}

fn proc_status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// JSON customers `[from, from + n)` of the table, cycling through its rows, ids made unique.
fn customers_json(ds: &Dataset, n: usize) -> Vec<u8> {
    let roles = &ds.roles;
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let r = i % ds.n_rows();
            let mut fields = vec![format!("\"{}\":\"c{i}\"", roles.id)];
            for c in roles.numeric_columns() {
                if c == roles.target {
                    continue;
                }
                if let Some(v) = ds.numeric.get(&c) {
                    fields.push(format!("\"{c}\":{}", v[r]));
                }
            }
            fields.push(format!("\"{}\":\"{}\"", roles.category, ds.category[r]));
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!("[{}]", rows.join(",")).into_bytes()
}

fn load(
    addr: SocketAddr,
    name: &str,
    body: &[u8],
    customers: usize,
    requests: usize,
    concurrency: usize,
) -> LoadResult {
    let url = format!("http://{addr}/v1/score");
    let per = requests.div_ceil(concurrency);
    let start = Instant::now();
    let results: Vec<(Vec<Duration>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|t| {
                let url = &url;
                s.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let n = per.min(requests.saturating_sub(t * per));
                    let mut lat = Vec::with_capacity(n);
                    let mut errors = 0;
                    for _ in 0..n {
                        let t0 = Instant::now();
                        let ok = agent
                            .post(url)
                            .header("content-type", "application/json")
                            .send(body)
                            .ok()
                            .and_then(|mut r| {
                                let status = r.status().as_u16();
                                r.body_mut().read_to_vec().ok().map(|_| status == 200)
                            })
                            .unwrap_or(false);
                        lat.push(t0.elapsed());
                        errors += usize::from(!ok);
                    }
                    (lat, errors)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| (Vec::new(), per)))
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut lat: Vec<f64> = results
        .iter()
        .flat_map(|(l, _)| l.iter().map(|d| d.as_secs_f64() * 1e3))
        .collect();
    lat.sort_by(f64::total_cmp);
    let errors = results.iter().map(|(_, e)| e).sum();
    let sent = lat.len();
    let q = |p: f64| crate::stats::quantile_sorted(&lat, p);
    LoadResult {
        name: name.to_string(),
        customers_per_request: customers,
        requests: sent,
        concurrency,
        seconds,
        requests_per_second: sent as f64 / seconds,
        customers_per_second: (sent * customers) as f64 / seconds,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        max_ms: lat.last().copied().unwrap_or(f64::NAN),
        errors,
    }
}

/// Runs the benchmark: `requests` single-customer requests and `batch_requests` 1,000-customer
/// requests, each over `concurrency` connections, after a short warm-up; customers are rows of
/// `data` (cycled).
pub fn run(
    models: &Path,
    data_file: &Path,
    settings: &Settings,
    requests: usize,
    batch_requests: usize,
    concurrency: usize,
) -> Result<LoadReport, String> {
    let concurrency = concurrency.max(1);
    let app = Arc::new(App::load(models, settings).map_err(|e| e.to_string())?);
    let ds = data::load_with_roles(data_file, &settings.roles).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(async move {
        let _ = axum::serve(listener, router(app, DEFAULT_BODY_LIMIT))
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    let one = customers_json(&ds, 1);
    let thousand = customers_json(&ds, 1000);
    let rss_before_kib = proc_status_kib("VmRSS:");
    load(addr, "warm-up", &one, 1, 200.min(requests), concurrency);
    let loads = vec![
        load(addr, "single customer", &one, 1, requests, concurrency),
        load(
            addr,
            "1,000 customers",
            &thousand,
            1000,
            batch_requests,
            concurrency,
        ),
    ];
    let rss_after_kib = proc_status_kib("VmRSS:");
    let _ = stop_tx.send(());
    let _ = rt.block_on(server);
    Ok(LoadReport {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rss_before_kib,
        rss_after_kib,
        rss_peak_kib: proc_status_kib("VmHWM:"),
        loads,
    })
}

/// The report as a Markdown table with the memory line.
pub fn format_markdown(r: &LoadReport) -> String {
    let mut s = String::from(
        "| load | requests | concurrency | requests/s | customers/s | p50 ms | p99 ms | max ms | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for l in &r.loads {
        s.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {} |\n",
            l.name,
            l.requests,
            l.concurrency,
            l.requests_per_second,
            l.customers_per_second,
            l.p50_ms,
            l.p99_ms,
            l.max_ms,
            l.errors
        ));
    }
    s.push_str(&format!(
        "\nmemory (resident, whole process incl. client threads): {:.1} MiB before the loads, {:.1} MiB after, peak {:.1} MiB; {} CPUs\n",
        r.rss_before_kib as f64 / 1024.0,
        r.rss_after_kib as f64 / 1024.0,
        r.rss_peak_kib as f64 / 1024.0,
        r.cpus
    ));
    s
}
