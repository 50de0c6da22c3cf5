//! Times the growth-potential classification on the bundled data (`cargo bench --bench
//! classification`): the whole analysis, and one `cv_f1` call as the robustness sweeps use it.
//! Plain timing with `std::time::Instant` (no benchmark framework): median of several runs.

use std::path::Path;
use std::time::Instant;

use customer_intel::analysis::classification::{self, ClassifierKind};
use customer_intel::{data, settings::Settings};

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn main() {
    let ds = data::load(Path::new("data/customer_purchasing_behaviors.csv")).expect("bundled data");
    let settings = Settings::default();
    let ms = median_ms(5, || {
        std::hint::black_box(classification::run(&ds, &settings));
    });
    println!("classification::run (bundled, {} rows): median {ms:.1} ms over 5 runs", ds.n_rows());
    for model in ClassifierKind::ALL {
        for smote in [false, true] {
            let ms = median_ms(5, || {
                std::hint::black_box(classification::cv_f1(&ds, &settings, model, smote).unwrap());
            });
            println!("cv_f1({}, smote={smote}): median {ms:.2} ms", model.name());
        }
    }
}
