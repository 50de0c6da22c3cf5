//! The kernels the scale work made faster keep their results: the silhouette of several
//! labellings at once, split by rows across threads, against scikit-learn on more points than one
//! parallel block holds (and bit for bit against its one-thread form), and SMOTE's k nearest
//! distinct neighbours, kept while scanning instead of sorting every distance, against numpy on
//! a table with copies. Reference values: tests/reference/scale_kernels.py.
mod common;

use common::Reference;
use customer_intel::ml::{cluster_metrics as cm, smote};

fn reference() -> Reference {
    Reference::load("scale_kernels")
}

#[test]
fn silhouette_of_many_labellings_matches_sklearn_across_blocks() {
    let r = reference();
    let points = r.f64ss("/silhouette/points");
    assert!(points.len() > 512, "the test needs several blocks of rows");
    let by_centre = r.usizes("/silhouette/by_centre");
    let random = r.usizes("/silhouette/random");
    let many = cm::silhouette_samples_many(&points, &[&by_centre, &random]);
    for (got, key) in many.iter().zip(["by_centre_samples", "random_samples"]) {
        let want = r.f64s(&format!("/silhouette/{key}"));
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-12, "{key}[{i}]: {g} vs sklearn {w}");
        }
    }
    // The one-thread form gives the same bits, and so does one labelling at a time.
    let serial = cm::silhouette_samples_many_serial(&points, &[&by_centre, &random]);
    assert_eq!(many, serial);
    assert_eq!(many[1], cm::silhouette_samples(&points, &random));
}

#[test]
fn smote_neighbours_match_numpy_on_a_table_with_copies() {
    let r = reference();
    let x = r.f64ss("/smote/x");
    let y = r.bools("/smote/y");
    let k = r.usize("/smote/k");
    let rows: Vec<usize> = (0..x.len()).collect();
    let got = smote::minority_neighbours(&x, &y, &rows, k);
    let firsts = r.usizes("/smote/firsts");
    let want: Vec<Vec<usize>> = (0..firsts.len())
        .map(|i| r.usizes(&format!("/smote/neighbours/{i}")))
        .collect();
    assert!(
        firsts.len() < rows.iter().filter(|&&i| y[i]).count(),
        "copies present"
    );
    assert_eq!(got.len(), firsts.len());
    for ((first, near), (want_first, want_near)) in got.iter().zip(firsts.iter().zip(&want)) {
        assert_eq!(first, want_first);
        assert_eq!(near, want_near, "neighbours of row {first}");
    }
}
