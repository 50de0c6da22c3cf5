//! Times one logistic-regression fit (`cargo bench --bench logistic`): `ml::logistic`'s Newton
//! steps against linfa-logistic's L-BFGS (default tolerance, as the classification used before
//! issue 19's change) on 175 rows of six standardised columns, two of them nearly collinear and
//! two one-hot, the size and shape of one training fold of the bundled classification.

use customer_intel::bench::median_ms;
use customer_intel::ml::logistic;
use linfa::prelude::*;

fn main() {
    let n = 175;
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let (f, t) = (i as f64, (i as f64 - 87.0) / 50.0);
            vec![
                t,
                0.98 * t + 0.05 * (1.7 * f).sin(),
                (0.9 * f).sin(),
                (i % 3 == 0) as u8 as f64,
                (i % 3 == 1) as u8 as f64,
                (2.3 * f).cos(),
            ]
        })
        .collect();
    let labels: Vec<bool> = (0..n)
        .map(|i| (i as f64 - 87.0) / 50.0 + 0.8 * (3.1 * i as f64).sin() > 0.1)
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
    let fits = 200;
    let ours = median_ms(9, || {
        for _ in 0..fits {
            std::hint::black_box(logistic::fit(&refs, &labels, 1.0, 100).expect("fits"));
        }
    });
    let steps = logistic::fit(&refs, &labels, 1.0, 100).expect("fits").steps;
    let x = ndarray::Array2::from_shape_vec((n, 6), rows.iter().flatten().copied().collect())
        .expect("six values a row");
    let data = linfa::DatasetBase::new(x, ndarray::Array1::from(labels.clone()));
    let theirs = median_ms(9, || {
        for _ in 0..fits {
            let m = linfa_logistic::LogisticRegression::default()
                .alpha(1.0)
                .max_iterations(100)
                .fit(&data)
                .expect("fits");
            std::hint::black_box(m);
        }
    });
    println!(
        "one fit, {n} rows x 6 columns, median of 9 runs of {fits} fits: ml::logistic {:.1} µs ({steps} Newton steps), linfa-logistic {:.1} µs",
        ours * 1000.0 / fits as f64,
        theirs * 1000.0 / fits as f64
    );
}
