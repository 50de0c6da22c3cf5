//! Bit-for-bit checks of the segmentation's vectorised k-means (distances of several rows per
//! pass, column layout, AVX2 where the processor has it) against the one-row-at-a-time code it
//! replaced, kept here verbatim as the reference: seeding, Lloyd iterations, the n_init runs'
//! inertia comparison and the final labels must all be the same bits on every table.

use super::*;

/// Greedy k-means++ as first written: one row at a time, distances by [`sq_dist_flat`].
fn kmeans_plus_plus_reference<const D: usize>(rows: &Flat, k: usize, rng: &mut Rng) -> Vec<f64> {
    let n = rows.len();
    let d = if D == 0 { rows.d } else { D };
    let trials = 2 + (k as f64).ln().floor() as usize;
    let first = rng.gen_range(0..n);
    let mut centres: Vec<f64> = rows.row(first);
    let values = rows.row_major();
    let mut closest: Vec<f64> = values
        .chunks_exact(d)
        .map(|r| sq_dist_flat::<D>(r, &rows.row(first), d))
        .collect();
    let mut cumulative = Vec::with_capacity(n);
    let mut updated = vec![0.0; n];
    let mut best_updated = vec![0.0; n];
    for _ in 1..k {
        let potential: f64 = closest.iter().sum();
        cumulative.clear();
        let mut acc = 0.0;
        for d in &closest {
            acc += d;
            cumulative.push(acc);
        }
        let mut pick: Option<(f64, usize)> = None;
        for _ in 0..trials {
            let target = rng.r#gen::<f64>() * potential;
            let c = cumulative.partition_point(|&v| v <= target).min(n - 1);
            let candidate = &rows.row(c);
            for ((u, r), &c) in updated.iter_mut().zip(values.chunks_exact(d)).zip(&closest) {
                *u = c.min(sq_dist_flat::<D>(r, candidate, d));
            }
            let total: f64 = updated.iter().sum();
            if pick.is_none_or(|(t, _)| total < t) {
                pick = Some((total, c));
                std::mem::swap(&mut updated, &mut best_updated);
            }
        }
        let (_, c) = pick.expect("at least two trials");
        centres.extend_from_slice(&rows.row(c));
        std::mem::swap(&mut closest, &mut best_updated);
    }
    centres
}

/// The n_init runs as first written: reference seeding, [`lloyd_plain`], inertia and labels by
/// [`nearest_flat`] one row at a time.
fn kmeans_runs_reference<const D: usize>(
    rows: &Flat,
    k: usize,
    s: &SegmentationSettings,
    rng: &mut Rng,
) -> (Vec<f64>, Vec<usize>) {
    let d = if D == 0 { rows.d } else { D };
    let values = rows.row_major();
    let mut best: Option<(f64, Vec<f64>)> = None;
    for _ in 0..s.n_init.max(1) {
        let seeds = kmeans_plus_plus_reference::<D>(rows, k, rng);
        let centroids = lloyd_plain::<D>(rows, seeds, s.tolerance, s.max_iterations as usize);
        let inertia: f64 = values
            .chunks_exact(d)
            .map(|r| {
                let j = nearest_flat::<D>(r, &centroids, d);
                sq_dist_flat::<D>(r, &centroids[j * d..(j + 1) * d], d)
            })
            .sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, centroids));
        }
    }
    let (_, flat) = best.expect("at least one run");
    let labels = values
        .chunks_exact(d)
        .map(|r| nearest_flat::<D>(r, &flat, d))
        .collect();
    (flat, labels)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Runs the new and the reference k-means at every k of `ks` under three stopping rules from
/// the same random stream; centroids (bits), labels and the streams' next draws must agree.
/// Returns the number of fits compared.
fn compare<const D: usize>(x: &[Vec<f64>], ks: &[usize], seed: u64) -> usize {
    let rows = Flat::from_matrix(&to_matrix(x));
    let mut fits = 0;
    for &k in ks {
        for (tolerance, max_iterations) in [(1e-4, 300), (0.0, 7), (1e-2, 300)] {
            let s = SegmentationSettings {
                n_init: 4,
                tolerance,
                max_iterations,
                ..SegmentationSettings::default()
            };
            let mut a = crate::rng::stream(seed, &format!("exact/{k}"));
            let mut b = a.clone();
            let (ca, la) = kmeans_runs::<D>(&rows, k, &s, &mut a);
            let (cb, lb) = kmeans_runs_reference::<D>(&rows, k, &s, &mut b);
            let what = format!(
                "n {} d {} k {k} tol {tolerance} iters {max_iterations}",
                x.len(),
                rows.d
            );
            assert_eq!(bits(&ca), bits(&cb), "centroids, {what}");
            assert_eq!(la, lb, "labels, {what}");
            assert_eq!(a.r#gen::<u64>(), b.r#gen::<u64>(), "random stream, {what}");
            fits += 1;
        }
    }
    fits
}

/// Uniform rows (no structure, many slow Lloyd rounds, as the null reference draws them).
fn uniform(r: &mut Rng, n: usize, d: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|_| (0..d).map(|_| r.gen_range(-2.0..2.0)).collect())
        .collect()
}

/// The vectorised k-means equals the reference bit for bit on uniform tables at every width the
/// code is compiled for (1 and 9 take the generic loop), row counts that leave 0–7 rows over a
/// group of eight, and k from 1 up to n.
#[test]
fn vector_kmeans_equals_reference_on_uniform_tables() {
    let mut fits = 0;
    for seed in 0..3u64 {
        let mut r = crate::rng::stream(seed, "exact-uniform");
        for n in [203, 517, 64] {
            fits += compare::<0>(&uniform(&mut r, n, 1), &[1, 2, 5], seed);
            fits += compare::<2>(&uniform(&mut r, n, 2), &[2, 3, 7], seed);
            fits += compare::<3>(&uniform(&mut r, n, 3), &[2, 6], seed);
            fits += compare::<4>(&uniform(&mut r, n, 4), &[3, 10], seed);
            fits += compare::<5>(&uniform(&mut r, n, 5), &[2, 4, 8, 10], seed);
            fits += compare::<6>(&uniform(&mut r, n, 6), &[5], seed);
            fits += compare::<7>(&uniform(&mut r, n, 7), &[4], seed);
            fits += compare::<8>(&uniform(&mut r, n, 8), &[3], seed);
            fits += compare::<0>(&uniform(&mut r, n, 9), &[2, 9], seed);
        }
    }
    assert_eq!(fits, 3 * 3 * 19 * 3);
}

/// Tables of more rows than one Lloyd block ([`LLOYD_BLOCK`]): two full blocks and a partial
/// one, and a partial last block that ends inside a group of eight rows.
#[test]
fn vector_kmeans_equals_reference_across_lloyd_blocks() {
    let mut r = crate::rng::stream(8, "exact-blocks");
    let mut fits = 0;
    for n in [2 * LLOYD_BLOCK + 37, LLOYD_BLOCK + 3] {
        fits += compare::<3>(&uniform(&mut r, n, 3), &[2, 5], 8);
        fits += compare::<0>(&uniform(&mut r, n, 9), &[3], 8);
    }
    assert_eq!(fits, 2 * 3 * 3);
}

/// Ties and degenerate tables: integer grids (many rows exactly as far from two centroids),
/// every row repeated, a table of one distinct row, and k near or equal to n (clusters that
/// empty and keep their centroid).
#[test]
fn vector_kmeans_equals_reference_on_ties_duplicates_and_small_tables() {
    let mut fits = 0;
    for seed in 0..4u64 {
        let mut r = crate::rng::stream(seed, "exact-ties");
        let grid: Vec<Vec<f64>> = (0..301)
            .map(|_| vec![r.gen_range(0..4) as f64, r.gen_range(0..3) as f64])
            .collect();
        fits += compare::<2>(&grid, &[2, 3, 6, 9, 12], seed);
        let grid5: Vec<Vec<f64>> = (0..150)
            .map(|_| (0..5).map(|_| r.gen_range(-1..=1) as f64).collect())
            .collect();
        fits += compare::<5>(&grid5, &[2, 5, 10], seed);
        let base = uniform(&mut r, 37, 5);
        let repeated: Vec<Vec<f64>> = (0..37 * 4).map(|i| base[i % 37].clone()).collect();
        fits += compare::<5>(&repeated, &[2, 9, 37], seed);
        let same = vec![vec![0.5, -1.0, 2.0]; 19];
        fits += compare::<3>(&same, &[1, 2, 19], seed);
        for n in [1, 2, 7, 8, 9, 15] {
            let small = uniform(&mut r, n, 5);
            let ks: Vec<usize> = [1, 2, n - 1, n]
                .into_iter()
                .filter(|&k| k >= 1 && k <= n)
                .collect();
            fits += compare::<5>(&small, &ks, seed);
        }
    }
    assert!(fits > 4 * 3 * 25, "{fits}");
}

/// The public entry point picks the same compiled width as before and gives the reference's
/// partition (after the canonical renumbering) at every width from 1 to 10.
#[test]
fn kmeans_dispatch_matches_reference_at_every_width() {
    let mut r = crate::rng::stream(5, "exact-dispatch");
    let s = SegmentationSettings {
        n_init: 3,
        ..SegmentationSettings::default()
    };
    for d in 1..=10 {
        let x = uniform(&mut r, 157, d);
        let m = to_matrix(&x);
        let got = kmeans(&m, 4, &s, crate::rng::stream(9, "w"), 0).unwrap();
        let rows = Flat::from_matrix(&m);
        let mut rr = crate::rng::stream(9, "w");
        let (flat, labels) = match d {
            2 => kmeans_runs_reference::<2>(&rows, 4, &s, &mut rr),
            5 => kmeans_runs_reference::<5>(&rows, 4, &s, &mut rr),
            _ => kmeans_runs_reference::<0>(&rows, 4, &s, &mut rr),
        };
        let centroids: Vec<Vec<f64>> = flat.chunks_exact(d).map(<[f64]>::to_vec).collect();
        assert_eq!(got, canonical(labels, &centroids, 0), "width {d}");
    }
}

/// One running sum finds every trial's row as a binary search over the stored running sums does
/// (the reference's `partition_point`): weights with zeros and repeats, targets on, between and
/// beyond the running sums, in any order and repeated.
#[test]
fn first_rows_above_equals_binary_search_over_running_sums() {
    let mut r = crate::rng::stream(12, "first-rows-above");
    for n in [1, 2, 9, 300] {
        let weights: Vec<f64> = (0..n)
            .map(|_| match r.gen_range(0..4) {
                0 => 0.0,
                1 => 0.25,
                _ => r.gen_range(0.0..3.0),
            })
            .collect();
        let mut acc = 0.0;
        let cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let total = cumulative[n - 1];
        let mut targets: Vec<f64> = (0..6).map(|_| r.r#gen::<f64>() * total).collect();
        targets.extend([0.0, cumulative[n / 2], cumulative[0], total, total * 2.0]);
        targets.push(targets[1]);
        let want: Vec<usize> = targets
            .iter()
            .map(|&t| cumulative.partition_point(|&v| v <= t).min(n - 1))
            .collect();
        assert_eq!(first_rows_above(&weights, &targets), want, "n {n}");
    }
    assert_eq!(first_rows_above(&[0.0; 4], &[0.0, 0.0]), vec![3, 3]);
}
