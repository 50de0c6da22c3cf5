//! Output safety (issue 20): builds into one output folder take turns (a lock on the folder),
//! so concurrent builds never leave a mix of files; temporary files an interrupted build left
//! behind are removed by the next build.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use customer_intel::output::OutputLock;
use customer_intel::pipeline::{self, BuildOptions};
use customer_intel::settings::Settings;
use customer_intel::tracking::Tracking;

use common::bundled_csv;

#[test]
fn a_second_lock_on_the_folder_waits_for_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let first = OutputLock::acquire(&dir, &mut |_| panic!("the folder is free")).unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(2));
    let (r, b, d) = (released.clone(), ready.clone(), dir.clone());
    let waiter = std::thread::spawn(move || {
        let mut waited = false;
        b.wait();
        let lock = OutputLock::acquire(&d, &mut |_| waited = true).unwrap();
        // Acquired only once the first holder let go.
        let after_release = r.load(Ordering::SeqCst);
        drop(lock);
        (waited, after_release)
    });
    ready.wait();
    std::thread::sleep(std::time::Duration::from_millis(300));
    released.store(true, Ordering::SeqCst);
    drop(first);
    let (waited, after_release) = waiter.join().unwrap();
    assert!(waited, "the second acquire did not see the folder locked");
    assert!(
        after_release,
        "the second acquire did not wait for the release"
    );
}

fn opts(out: &std::path::Path, seed: u64) -> BuildOptions {
    let mut s = Settings::default();
    s.repeats = 1;
    s.seed = seed;
    BuildOptions {
        data: bundled_csv(),
        out_dir: out.to_path_buf(),
        readme: None,
        settings: s,
        tracking: Tracking::Off,
        ..BuildOptions::default()
    }
}

#[test]
fn concurrent_builds_leave_the_files_of_one_build_and_no_temporaries() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("figures")).unwrap();
    // What a build killed with -9 leaves: a temporary beside an output, and an unrelated file.
    std::fs::write(out.join(".findings.json.tmp-4242424"), "half").unwrap();
    std::fs::write(out.join(".index.html.tmp-17"), "half").unwrap();
    std::fs::write(out.join(".notes.tmp-17"), "mine").unwrap();
    let handles: Vec<_> = [1u64, 2]
        .into_iter()
        .map(|seed| {
            let o = opts(&out, seed);
            std::thread::spawn(move || pipeline::build(&o, &mut |_| {}).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("findings.json")).unwrap()).unwrap();
    let spend: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("models/spend.json")).unwrap()).unwrap();
    let growth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("models/growth.json")).unwrap()).unwrap();
    let seed = findings["provenance"]["seed"].as_u64().unwrap();
    assert_eq!(spend["header"]["settings"]["seed"].as_u64(), Some(seed));
    assert_eq!(growth["header"]["settings"]["seed"].as_u64(), Some(seed));
    // The report shows the same seed as the findings.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains(&format!("seed {seed}")) || html.contains(&format!("seed = {seed}")));
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains(".tmp-") && n != ".notes.tmp-17"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == ".notes.tmp-17"),
        "removed a file it does not own"
    );
}
