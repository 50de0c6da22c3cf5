use super::*;
use crate::data::{self, SynthSpec};

fn blobs(clusters: usize, rows: usize, seed: u64) -> Dataset {
    data::synth(rows, seed, &SynthSpec { clusters, ..SynthSpec::default() })
}

#[test]
fn placeholder_compiles() {
    let ds = blobs(3, 300, 1);
    let f = run(&ds, &Settings::default());
    assert_eq!(f.skipped, None);
    println!("{}", serde_json::to_string_pretty(&f.per_k).unwrap());
    assert_eq!(f.chosen_k, 3);
}
