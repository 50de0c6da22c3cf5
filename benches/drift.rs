//! Times the drift-and-retraining simulation alone on the bundled data (`cargo bench --bench
//! drift`): `analysis::drift::run` with the default settings (30 replicates of a 600-row
//! reference period and 12 + 12 batches of 200 rows), on all cores and on one thread as a
//! notebook cell may run it. Plain timing with `std::time::Instant`: the median of several runs.

use std::path::Path;

use customer_intel::analysis::drift;
use customer_intel::bench::median_ms;
use customer_intel::{data, settings::Settings};

fn main() {
    let ds = data::load(Path::new("data/customer_purchasing_behaviors.csv")).expect("bundled data");
    let settings = Settings::default();
    let runs = 15;
    let ms = median_ms(runs, || {
        std::hint::black_box(drift::run(&ds, &settings));
    });
    println!(
        "drift::run (bundled, {} replicates, {} threads): median {ms:.1} ms over {runs} runs",
        settings.drift.seeds,
        customer_intel::par::threads()
    );
    // One replicate: the per-replicate cost, free of the thread pool's balance.
    let one = Settings {
        drift: drift::DriftSettings {
            seeds: 1,
            ..settings.drift.clone()
        },
        ..settings.clone()
    };
    let ms = median_ms(runs, || {
        std::hint::black_box(drift::run(&ds, &one));
    });
    println!("drift::run (bundled, 1 replicate): median {ms:.2} ms over {runs} runs");
}
