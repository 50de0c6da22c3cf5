//! Times the growth-potential classification on the bundled data (`cargo bench --bench
//! classification`): the whole analysis, and one `cv_f1` call as the robustness sweeps use it.
//! Plain timing with `std::time::Instant` (no benchmark framework): median of several runs.

use std::path::Path;

use customer_intel::analysis::classification::{self, ClassifierKind};
use customer_intel::bench::median_ms;
use customer_intel::{data, settings::Settings};

fn main() {
    let ds = data::load(Path::new("data/customer_purchasing_behaviors.csv")).expect("bundled data");
    let settings = Settings::default();
    let ms = median_ms(5, || {
        std::hint::black_box(classification::run(&ds, &settings));
    });
    println!(
        "classification::run (bundled, {} rows): median {ms:.1} ms over 5 runs",
        ds.n_rows()
    );
    let f = classification::run(&ds, &settings);
    for r in &f.results {
        println!(
            "{:?} {:>13} smote={:<5} {:?}: F1@0.5 {:.3}±{:.3} P@0.5 {:.3} | F1@chosen {:.3}±{:.3} P {:.3} R {:.3} thr {:.3} | AUC {:.3} AP {:.3}",
            r.features,
            r.model.name(),
            r.smote,
            r.scheme,
            r.at_default.f1.mean,
            r.at_default.f1.sd,
            r.at_default.precision.mean,
            r.at_chosen.f1.mean,
            r.at_chosen.f1.sd,
            r.at_chosen.precision.mean,
            r.at_chosen.recall.mean,
            r.chosen_threshold.mean,
            r.roc_auc.mean,
            r.average_precision.mean
        );
    }
    println!("best: {:?}\ntargets: {:?}", f.best, f.targets);
    for model in ClassifierKind::ALL {
        for smote in [false, true] {
            let ms = median_ms(5, || {
                std::hint::black_box(classification::cv_f1(&ds, &settings, model, smote).unwrap());
            });
            println!("cv_f1({}, smote={smote}): median {ms:.2} ms", model.name());
        }
    }
}
