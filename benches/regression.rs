//! Times the spend regression on the bundled data (`cargo bench --bench regression`): the whole
//! analysis, then one cross-validation per model and feature set under both schemes, as the
//! analysis and the robustness sweep run them. Plain timing with `std::time::Instant` (no
//! benchmark framework): the median of several runs.

use std::path::Path;

use customer_intel::analysis::regression::{self, FeatureSet};
use customer_intel::bench::median_ms;
use customer_intel::ml::{cv::Scheme, regressors::ModelKind};
use customer_intel::{data, settings::Settings};

fn main() {
    let ds = data::load(Path::new("data/customer_purchasing_behaviors.csv")).expect("bundled data");
    let settings = Settings::default();
    let ms = median_ms(5, || {
        std::hint::black_box(regression::run(&ds, &settings));
    });
    println!(
        "regression::run (bundled, {} rows, {} folds x {} repeats): median {ms:.1} ms over 5 runs",
        ds.n_rows(),
        settings.folds,
        settings.repeats
    );
    for set in FeatureSet::ALL {
        for model in ModelKind::ALL {
            for scheme in [Scheme::GroupKFold, Scheme::KFold] {
                let mut r2 = f64::NAN;
                let ms = median_ms(5, || {
                    r2 = regression::cv_r2(&ds, &settings, model, set, scheme)
                        .expect("cross-validation runs")
                        .mean;
                });
                println!(
                    "cv_r2({:<13}, {:<11}, {:<10}): median {ms:>7.2} ms, mean R² {r2:.4}",
                    model.label(),
                    set.label(),
                    format!("{scheme:?}")
                );
            }
        }
    }
}
