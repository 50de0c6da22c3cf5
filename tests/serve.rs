//! `report serve` end to end: the binary is started on 127.0.0.1 with an ephemeral port and the
//! committed models, and every endpoint is exercised: the dashboard, health, model card, JSON
//! and CSV scoring (equal to `report score` on the same rows), drift (PSI and KS equal to numpy
//! and scipy, tests/reference/serve.py), bad JSON, wrong types, missing and unknown fields, an
//! empty batch, a CSV with a bad cell on line 5,000 (the CLI's message), an oversized body (413),
//! a malformed model folder (exit 2) and SIGTERM (graceful exit 0). `report drift` and the drift
//! summary of `report score` are checked against the same reference.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_report")
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("report/models")
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("serve-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `report serve`; killed on drop if still running.
struct Server {
    child: Child,
    base: String,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(exe())
            .args(["serve", "--addr", "127.0.0.1:0", "--models"])
            .arg(models_dir())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let start = line.find("http://").expect("the server prints its address") + 7;
        let addr = line[start..].split('/').next().unwrap().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        Server {
            child,
            base: format!("http://{addr}"),
            stdout,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs a body; returns status and body text.
fn post(s: &Server, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut r = agent()
        .post(&format!("{}{path}", s.base))
        .header("content-type", content_type)
        .send(body)
        .unwrap();
    let status = r.status().as_u16();
    let text = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    (status, text)
}

fn get(s: &Server, path: &str) -> (u16, String) {
    let mut r = agent().get(&format!("{}{path}", s.base)).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap())
}

fn error_of(status: u16, body: &str, want: u16) -> String {
    assert_eq!(status, want, "{body}");
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["status"], want);
    v["error"].as_str().unwrap().to_string()
}

/// The bundled CSV's rows as JSON customers (every column as its JSON type).
fn bundled_json(with_target: bool) -> Vec<u8> {
    let text = std::fs::read_to_string(common::bundled_csv()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<String> = lines
        .map(|l| {
            let fields: Vec<String> = header
                .iter()
                .zip(l.split(','))
                .filter(|(h, _)| with_target || **h != "purchase_amount")
                .map(|(h, v)| match *h {
                    "user_id" | "region" => format!("\"{h}\":\"{v}\""),
                    _ => format!("\"{h}\":{v}"),
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!("[{}]", rows.join(",")).into_bytes()
}

/// The bundled table without its spend column, as CSV text.
fn bundled_without_target() -> String {
    let text = std::fs::read_to_string(common::bundled_csv()).unwrap();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [f[0], f[1], f[2], f[4], f[5], f[6]].join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `report score` on a file; returns the output CSV text.
fn cli_scores(input: &Path, dir: &Path) -> String {
    let out = dir.join("cli.scores.csv");
    let o = Command::new(exe())
        .args(["score", "--models"])
        .arg(models_dir())
        .arg("--input")
        .arg(input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn dashboard_health_and_model_card() {
    let s = Server::start(&[]);
    let spend: Value =
        serde_json::from_slice(&std::fs::read(models_dir().join("spend.json")).unwrap()).unwrap();
    let growth: Value =
        serde_json::from_slice(&std::fs::read(models_dir().join("growth.json")).unwrap()).unwrap();
    let (st, h) = get(&s, "/healthz");
    assert_eq!(st, 200);
    let h: Value = serde_json::from_str(&h).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(
        h["training_data_sha256"],
        spend["header"]["training_data"]["sha256"]
    );

    let (st, card) = get(&s, "/v1/models");
    assert_eq!(st, 200);
    let card: Value = serde_json::from_str(&card).unwrap();
    assert_eq!(card["models"].as_array().unwrap().len(), 3);
    assert_eq!(
        card["models"][1]["threshold"],
        growth["classifier"]["threshold"]
    );
    assert_eq!(card["training_data"]["rows"], 238);
    assert_eq!(card["profile"]["rows"], 238);
    // The honest metrics come from the committed findings, with the mean-predictor baseline.
    let findings: Value = serde_json::from_slice(
        &std::fs::read(models_dir().parent().unwrap().join("findings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        card["metrics"]["regression"]["best"],
        findings["regression"]["best"]
    );
    assert_eq!(
        card["metrics"]["regression"]["baseline_mean_predictor"]["model"],
        "mean"
    );
    // The profile's age range is the bundled table's.
    let ds = common::bundled();
    let ages = &ds.numeric["age"];
    let age = card["profile"]["numeric"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["column"] == "age")
        .unwrap();
    assert_eq!(
        age["min"].as_f64().unwrap(),
        ages.iter().cloned().fold(f64::INFINITY, f64::min)
    );
    assert_eq!(
        age["max"].as_f64().unwrap(),
        ages.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
    );

    let (st, page) = get(&s, "/");
    assert_eq!(st, 200);
    assert!(
        page.contains("id=\"whatif\"")
            && page.contains("id=\"batch\"")
            && page.contains("id=\"card\"")
    );
    assert!(
        !page.contains("/*CONFIG*/null"),
        "the model card is embedded"
    );
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(
            !page.contains(external),
            "the page loads nothing from the network: {external}"
        );
    }
    let (st, _) = get(&s, "/no-such-page");
    assert_eq!(st, 404);
}

#[test]
fn api_scores_equal_report_score() {
    let dir = scratch("equal");
    let s = Server::start(&[]);
    // CSV in, CSV out: byte for byte what `report score` writes, with and without the spend column.
    let cli = cli_scores(&common::bundled_csv(), &dir);
    let (st, api) = post(
        &s,
        "/v1/score/csv",
        "text/csv",
        &std::fs::read(common::bundled_csv()).unwrap(),
    );
    assert_eq!(st, 200, "{api}");
    assert_eq!(api, cli);
    let no_target = dir.join("new.csv");
    std::fs::write(&no_target, bundled_without_target()).unwrap();
    let cli_new = cli_scores(&no_target, &dir);
    let (st, api_new) = post(
        &s,
        "/v1/score/csv",
        "text/csv",
        bundled_without_target().as_bytes(),
    );
    assert_eq!(st, 200);
    assert_eq!(api_new, cli_new);

    // JSON in: the same numbers as the CLI's CSV (parsed back), customer by customer.
    for (body, csv) in [(bundled_json(true), &cli), (bundled_json(false), &cli_new)] {
        let (st, j) = post(&s, "/v1/score", "application/json", &body);
        assert_eq!(st, 200, "{j}");
        let j: Value = serde_json::from_str(&j).unwrap();
        let scores = j["scores"].as_array().unwrap();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(scores.len(), rows.len());
        assert_eq!(scores.len(), 238);
        for (sc, row) in scores.iter().zip(rows) {
            let f: Vec<&str> = row.splitn(9, ',').collect();
            assert_eq!(sc["id"], f[0]);
            for (key, col) in [
                ("predicted_spend", 1),
                ("spend_lower", 2),
                ("spend_upper", 3),
                ("growth_probability", 4),
            ] {
                let want: f64 = f[col].parse().unwrap();
                common::assert_close(sc[key].as_f64().unwrap(), want, 1e-9);
            }
            assert_eq!(sc["growth_flag"].as_bool().unwrap().to_string(), f[5]);
            assert_eq!(sc["segment"].as_u64().unwrap().to_string(), f[6]);
        }
    }
}

#[test]
fn bad_requests_get_4xx_with_the_cli_messages() {
    let dir = scratch("bad");
    let s = Server::start(&["--max-body-mb", "1"]);
    let one = |extra: &str| {
        format!(
            "[{{\"user_id\":\"a\",\"age\":30,\"annual_income\":50000,\"loyalty_score\":6.5,\"region\":\"North\",\"purchase_frequency\":15{extra}}}]"
        )
    };
    let (st, b) = post(&s, "/v1/score", "application/json", one("").as_bytes());
    assert_eq!(st, 200, "{b}");

    let (st, b) = post(
        &s,
        "/v1/score",
        "application/json",
        b"[{\"user_id\": \"a\",",
    );
    let e = error_of(st, &b, 400);
    assert!(e.contains("not valid JSON") && e.contains("line 1"), "{e}");

    let wrong = one("").replace("\"age\":30", "\"age\":\"thirty\"");
    let e = {
        let (st, b) = post(&s, "/v1/score", "application/json", wrong.as_bytes());
        error_of(st, &b, 422)
    };
    assert!(
        e.contains("customers[0].age is a string")
            && e.contains("thirty")
            && e.contains("rule: a JSON number"),
        "{e}"
    );

    let missing = one("").replace("\"age\":30,", "");
    let (st, b) = post(&s, "/v1/score", "application/json", missing.as_bytes());
    let e = error_of(st, &b, 422);
    assert!(e.contains("customers[0] is missing the field 'age'"), "{e}");

    let (st, b) = post(
        &s,
        "/v1/score",
        "application/json",
        one(",\"shoe_size\":42").as_bytes(),
    );
    let e = error_of(st, &b, 422);
    assert!(e.contains("unknown field 'shoe_size'"), "{e}");

    for empty in ["[]", "{\"customers\": []}"] {
        let (st, b) = post(&s, "/v1/score", "application/json", empty.as_bytes());
        let e = error_of(st, &b, 422);
        assert!(e.contains("no customers"), "{e}");
    }
    let (st, b) = post(&s, "/v1/score/csv", "text/csv", b"");
    let e = error_of(st, &b, 422);
    assert!(e.contains("empty"), "{e}");

    // A value the loader's rules refuse, sent as JSON: the loader's message (line = index + 2).
    let first = one("");
    let second = first
        .replace("\"a\"", "\"b\"")
        .replace("\"age\":30", "\"age\":-4");
    let negative = format!(
        "[{},{}]",
        &first[1..first.len() - 1],
        &second[1..second.len() - 1]
    );
    let (st, b) = post(&s, "/v1/score", "application/json", negative.as_bytes());
    let e = error_of(st, &b, 422);
    assert!(
        e.contains("line 3") && e.contains("age") && e.contains("-4"),
        "{e}"
    );

    // A CSV with a bad cell on line 5,000: the same violation text as `report score`.
    let text = std::fs::read_to_string(common::bundled_csv()).unwrap();
    let mut lines: Vec<String> = vec![text.lines().next().unwrap().to_string()];
    let rows: Vec<&str> = text.lines().skip(1).collect();
    for i in 0..6000 {
        let r = rows[i % rows.len()];
        let rest = &r[r.find(',').unwrap()..];
        lines.push(format!("c{i}{rest}"));
    }
    // Line 5,000 of the file is data row 4,999 (line 1 is the header).
    let f: Vec<String> = lines[4999].split(',').map(String::from).collect();
    lines[4999] = format!("{},abc,{}", f[0], f[2..].join(","));
    let csv = lines.join("\n") + "\n";
    let file = dir.join("bad5000.csv");
    std::fs::write(&file, &csv).unwrap();
    let (st, b) = post(&s, "/v1/score/csv", "text/csv", csv.as_bytes());
    let e = error_of(st, &b, 422);
    assert!(
        e.contains("line 5000") && e.contains("age") && e.contains("abc"),
        "{e}"
    );
    let o = Command::new(exe())
        .args(["score", "--models"])
        .arg(models_dir())
        .arg("--input")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let cli =
        String::from_utf8_lossy(&o.stderr).replace(&file.display().to_string(), "uploaded CSV");
    // Every line of the API's message (the violations) is in the CLI's message.
    for line in e.lines().skip(1) {
        assert!(
            cli.contains(line.trim()),
            "API line {line:?} not in CLI output {cli}"
        );
    }
    assert!(
        !dir.join("bad5000.scores.csv").exists(),
        "a failed run writes nothing"
    );

    // Over the 1 MiB limit: 413, decided from the declared length (the body is never sent, so
    // the server's early answer cannot race a client still writing).
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        tcp,
        "POST /v1/score/csv HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        2 << 20
    )
    .unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&response).contains("\"status\":413") {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains("larger than the server's limit"),
        "{response}"
    );
}

fn reference() -> common::Reference {
    common::Reference::load("serve")
}

/// The reference batch of tests/reference/serve.py.
fn shifted_csv() -> String {
    let text = std::fs::read_to_string(common::bundled_csv()).unwrap();
    let mut out = vec![text.lines().next().unwrap().to_string()];
    for (i, l) in text.lines().skip(1).enumerate() {
        let mut f: Vec<String> = l.split(',').map(String::from).collect();
        if i % 2 == 0 {
            f[1] = (f[1].parse::<f64>().unwrap() + 10.0).to_string();
        } else {
            f[5] = "East".into();
        }
        if i % 3 == 0 {
            f[2] = (f[2].parse::<f64>().unwrap() + 5000.0).to_string();
        }
        out.push(f.join(","));
    }
    out.join("\n") + "\n"
}

fn check_drift(d: &Value) {
    let r = reference();
    assert_eq!(d["rows"], r.usize("/rows"));
    assert_eq!(d["judged"], true, "238 rows: floor 9·(2/238) ≤ 0.1");
    let features = d["features"].as_array().unwrap();
    // Every numeric role column, the spend included (this batch has it).
    assert_eq!(features.len(), 5);
    let alarm = d["psi_alarm_level"].as_f64().unwrap();
    let mut alarms = Vec::new();
    for f in features {
        let col = f["column"].as_str().unwrap();
        let psi = r.f64(&format!("/features/{col}/psi"));
        common::assert_close(f["psi"].as_f64().unwrap(), psi, 1e-9);
        common::assert_close(
            f["ks"].as_f64().unwrap(),
            r.f64(&format!("/features/{col}/ks")),
            1e-12,
        );
        assert_eq!(f["psi_alarm"], psi > alarm, "{col}");
        if psi > alarm {
            alarms.push(col.to_string());
        }
    }
    // The shifted columns, and only they, raise the alarm (scipy/numpy's PSI above 0.2).
    assert_eq!(alarms, ["age", "annual_income"]);
    common::assert_close(
        d["category"]["psi"].as_f64().unwrap(),
        r.f64("/region_psi"),
        1e-9,
    );
    assert_eq!(d["category"]["psi_alarm"], true);
    assert_eq!(d["alarm"], true);
    let w = d["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|x| x.as_str().unwrap().starts_with("'age' has drifted")),
        "{w:?}"
    );
}

#[test]
fn drift_matches_numpy_and_scipy_in_api_and_cli() {
    let dir = scratch("drift");
    let s = Server::start(&[]);
    let (st, b) = post(&s, "/v1/drift", "text/csv", shifted_csv().as_bytes());
    assert_eq!(st, 200, "{b}");
    check_drift(&serde_json::from_str(&b).unwrap());
    // The training table against itself: no drift, PSI 0.
    let (st, b) = post(&s, "/v1/drift", "application/json", &bundled_json(false));
    assert_eq!(st, 200, "{b}");
    let same: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(same["alarm"], false);
    assert!(
        same["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["psi"].as_f64().unwrap().abs() < 1e-12)
    );
    // Ten customers are too few to judge.
    let ten: String = bundled_without_target()
        .lines()
        .take(11)
        .collect::<Vec<_>>()
        .join("\n");
    let (st, b) = post(&s, "/v1/drift", "text/csv", ten.as_bytes());
    assert_eq!(st, 200);
    let small: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(small["judged"], false);
    assert!(
        small["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("only 10 customers")
    );

    // `report drift` writes the same summary.
    let current = dir.join("shifted.csv");
    std::fs::write(&current, shifted_csv()).unwrap();
    let o = Command::new(exe())
        .arg("drift")
        .arg("--reference")
        .arg(common::bundled_csv())
        .arg("--current")
        .arg(&current)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/drift.json")).unwrap()).unwrap();
    check_drift(&j);
    let html = std::fs::read_to_string(dir.join("out/drift.html")).unwrap();
    assert!(html.contains("Drift alarm") && html.contains("class=\"alarm\""));

    // `report score` prints the summary and warns.
    let o = Command::new(exe())
        .args(["score", "--models"])
        .arg(models_dir())
        .arg("--input")
        .arg(&current)
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("drift against the 238 training rows"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("age") && l.contains("ALARM")),
        "{out}"
    );
    assert!(err.contains("warning: 'age' has drifted"), "{err}");
}

#[test]
fn malformed_models_exit_2_and_sigterm_stops_gracefully() {
    let dir = scratch("malformed");
    for f in ["spend.json", "growth.json", "segments.json"] {
        std::fs::copy(models_dir().join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("growth.json"), "{\"header\": ").unwrap();
    let o = Command::new(exe())
        .args(["serve", "--addr", "127.0.0.1:0", "--models"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("growth.json") && err.contains("corrupted"),
        "{err}"
    );

    // A well-formed, re-sealed spend.json whose training profile has one share too few: refused
    // at start (not at the first drift request), naming the file and the rule.
    let dir2 = scratch("bad-profile");
    for f in ["spend.json", "growth.json", "segments.json"] {
        std::fs::copy(models_dir().join(f), dir2.join(f)).unwrap();
    }
    let mut spend: Value =
        serde_json::from_slice(&std::fs::read(dir2.join("spend.json")).unwrap()).unwrap();
    spend["training_profile"]["numeric"][0]["shares"]
        .as_array_mut()
        .unwrap()
        .pop();
    let text = serde_json::to_string_pretty(&spend).unwrap();
    std::fs::write(
        dir2.join("spend.json"),
        customer_intel::models::seal(text.into_bytes()),
    )
    .unwrap();
    let o = Command::new(exe())
        .args(["serve", "--addr", "127.0.0.1:0", "--models"])
        .arg(&dir2)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spend.json") && err.contains("one share per bin"),
        "{err}"
    );

    let mut s = Server::start(&[]);
    let (st, _) = get(&s, "/healthz");
    assert_eq!(st, 200);
    let pid = s.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    s.stdout.read_line(&mut rest).unwrap();
    assert_eq!(rest.trim(), "stopped");
}
