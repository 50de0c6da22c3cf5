//! `ml::gmm` against linfa-clustering 0.8's `GaussianMixtureModel` itself (the fit it reproduces):
//! on many seeded tables, with duplicate rows, ties and awkward sizes, both give the same weights,
//! means, covariances and predictions bit for bit, or the same error message.

use customer_intel::ml::gmm::{self, MixtureParams};
use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::GaussianMixtureModel;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A table of `n` rows and `d` columns around `centres` blobs; `copies` rows repeat earlier rows
/// and values are rounded to `step` (ties), like the bundled table's integer columns.
fn table(seed: u64, n: usize, d: usize, centres: usize, copies: usize, step: f64) -> Array2<f64> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::<f64>::zeros((n, d));
    for i in 0..n {
        if i >= n - copies && i > 0 {
            let j = r.gen_range(0..i);
            let row = x.row(j).to_owned();
            x.row_mut(i).assign(&row);
            continue;
        }
        let c = r.gen_range(0..centres.max(1)) as f64;
        for t in 0..d {
            let v = 3.0 * c + r.gen_range(-1.0..1.0) * (1.0 + t as f64);
            x[[i, t]] = if step > 0.0 {
                (v / step).round() * step
            } else {
                v
            };
        }
    }
    x
}

/// Every value's bit pattern (equal bits: the same float, NaN included).
fn bits<'a>(v: impl Iterator<Item = &'a f64>) -> Vec<u64> {
    v.map(|f| f.to_bits()).collect()
}

fn compare(x: &Array2<f64>, p: &MixtureParams, seed: u64) -> &'static str {
    let rng = ChaCha8Rng::seed_from_u64(seed);
    let ours = gmm::fit(x, p, &rng);
    let theirs = GaussianMixtureModel::params_with_rng(p.k, rng.clone())
        .reg_covariance(p.reg_covar)
        .tolerance(p.tolerance)
        .max_n_iterations(p.max_iterations)
        .fit(&DatasetBase::from(x.clone()));
    match (ours, theirs) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                bits(a.weights.iter()),
                bits(b.weights().iter()),
                "weights {p:?} {seed}"
            );
            assert_eq!(
                bits(a.means.iter()),
                bits(b.means().iter()),
                "means {p:?} {seed}"
            );
            assert_eq!(
                bits(a.covariances.iter()),
                bits(b.covariances().iter()),
                "covariances {p:?} seed {seed}"
            );
            assert_eq!(
                a.predict(x).unwrap(),
                b.predict(x).to_vec(),
                "labels {p:?} seed {seed}"
            );
            "fit"
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "{p:?} seed {seed}");
            "error"
        }
        (a, b) => panic!(
            "{p:?} seed {seed}: ours {:?}, linfa's {:?}",
            a.err(),
            b.err()
        ),
    }
}

#[test]
fn fits_and_errors_equal_linfa_bit_for_bit() {
    let mut outcomes = std::collections::BTreeMap::new();
    let mut case = 0u64;
    for &(n, d, centres, copies, step) in &[
        (40usize, 2usize, 2usize, 0usize, 0.0f64),
        (60, 3, 3, 30, 0.5),
        (238, 5, 4, 178, 1.0),
        (300, 4, 1, 100, 0.0),
        (500, 2, 5, 0, 0.25),
        (25, 3, 2, 20, 1.0),
        // Widths the k-means initialisation's vector loops are not specialised for (1, 7) and
        // the largest one they are (6).
        (50, 1, 2, 10, 0.5),
        (120, 7, 3, 40, 0.5),
        (80, 6, 2, 0, 0.0),
    ] {
        for k in 1..=7 {
            for &(tol, max) in &[(1e-3, 200u64), (1e-3, 2)] {
                case += 1;
                let x = table(case, n, d, centres, copies, step);
                let p = MixtureParams {
                    k,
                    reg_covar: 1e-6,
                    tolerance: tol,
                    max_iterations: max,
                };
                *outcomes.entry(compare(&x, &p, 1000 + case)).or_insert(0) += 1;
            }
        }
    }
    // Both kinds of outcome were exercised (a fit that converged, and linfa's errors: too few
    // iterations, emptied components on tables with few distinct rows).
    assert!(
        outcomes.get("fit").copied().unwrap_or(0) >= 30,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("error").copied().unwrap_or(0) >= 5,
        "{outcomes:?}"
    );
}

/// Parameters linfa refuses give linfa's message; a table without rows or columns, where linfa
/// panics, is an error here.
#[test]
fn bad_parameters_and_empty_tables_are_errors() {
    let x = table(7, 50, 3, 2, 0, 0.0);
    let ok = MixtureParams {
        k: 2,
        reg_covar: 1e-6,
        tolerance: 1e-3,
        max_iterations: 100,
    };
    for p in [
        MixtureParams { k: 0, ..ok },
        MixtureParams {
            tolerance: 0.0,
            ..ok
        },
        MixtureParams {
            reg_covar: -1e-6,
            ..ok
        },
        MixtureParams {
            max_iterations: 0,
            ..ok
        },
    ] {
        assert_eq!(compare(&x, &p, 3), "error", "{p:?}");
    }
    let rng = ChaCha8Rng::seed_from_u64(3);
    for empty in [Array2::<f64>::zeros((0, 3)), Array2::<f64>::zeros((10, 0))] {
        let e = gmm::fit(&empty, &ok, &rng).unwrap_err().to_string();
        assert!(e.contains("at least one row and one column"), "{e}");
    }
}

/// Values whose squares overflow, and infinite or NaN values (where the initialisation leaves its
/// vector loops for linfa's one-row loop): the same fit, or the same error, as linfa.
#[test]
fn overflowing_and_non_finite_values_equal_linfa() {
    let mut outcomes = Vec::new();
    for (case, bad) in [1e200, -1e300, f64::INFINITY, f64::NAN]
        .into_iter()
        .enumerate()
    {
        let mut x = table(70 + case as u64, 60, 3, 2, 0, 0.0);
        x[[5, 1]] = bad;
        for k in 1..=4 {
            let p = MixtureParams {
                k,
                reg_covar: 1e-6,
                tolerance: 1e-3,
                max_iterations: 100,
            };
            let seed = 500 + case as u64;
            let rng = ChaCha8Rng::seed_from_u64(seed);
            if let Err(e) = gmm::fit(&x, &p, &rng)
                && e.to_string().contains("overflow")
            {
                // Where linfa panics (its k-means++ weights sum to +∞), ours is an error.
                let linfa = std::panic::catch_unwind(|| {
                    GaussianMixtureModel::params_with_rng(p.k, rng.clone())
                        .fit(&DatasetBase::from(x.clone()))
                });
                assert!(
                    linfa.is_err(),
                    "linfa fitted what overflowed here: {p:?} {bad}"
                );
                outcomes.push("overflow");
                continue;
            }
            outcomes.push(compare(&x, &p, seed));
        }
    }
    // Each path was taken: linfa's fit or error, and the overflow linfa panics on.
    assert!(outcomes.contains(&"overflow"), "{outcomes:?}");
    assert!(
        outcomes.iter().filter(|o| **o != "overflow").count() >= 4,
        "{outcomes:?}"
    );
}
