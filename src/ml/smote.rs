//! SMOTE (Synthetic Minority Over-sampling Technique, Chawla et al. 2002), small and seeded.
//!
//! For each synthetic point: take a minority row `a` of the rows given, one of its `k` nearest
//! minority-class neighbours `b` (Euclidean distance on features standardised with the given
//! rows' means and standard deviations), and a gap `u ~ U[0, 1)`; the new point is
//! `a + u · (b − a)` in the original feature space, so it lies on the segment between two
//! minority rows. Every column is interpolated, one-hot columns included (their synthetic values
//! fall between 0 and 1; this is plain SMOTE, not SMOTE-NC).
//!
//! **Copies.** Neighbours are distinct points: minority rows with identical features count as
//! one candidate, and a row's own copies are never its neighbours. On a table where most rows
//! are copies, the k nearest *rows* would mostly be copies of the base (a segment of length
//! zero), and SMOTE would degrade to random oversampling. Base rows are still every minority row,
//! copies included, so a point with many copies seeds proportionally many synthetic rows. When
//! the minority has a single distinct point, its synthetic rows are copies of it.
//!
//! Only the rows passed in `rows` are read, so calling it with a training fold's indices can
//! never use a test-fold row. Base rows are taken in a seeded shuffled order, cycling, so each
//! minority row seeds ⌊n_new / m⌋ or ⌈n_new / m⌉ synthetic points.

use rand::Rng as _;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::rng::Rng;
use crate::stats;

/// Why SMOTE could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmoteError {
    /// `k` was zero.
    #[error("SMOTE needs k >= 1 neighbours, got 0")]
    ZeroNeighbours,
    /// The minority class has fewer than two rows, so there is no segment to sample on.
    #[error("SMOTE needs at least 2 rows of the minority class, got {0}")]
    TooFewMinority(usize),
    /// Rows of unequal width.
    #[error("row {row} has {got} features, expected {expected}")]
    Ragged {
        /// The row index.
        row: usize,
        /// Its width.
        got: usize,
        /// The first row's width.
        expected: usize,
    },
}

/// SMOTE parameters (documented defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmoteParams {
    /// Nearest same-class neighbours to interpolate towards (default 5, as in the original
    /// paper); capped at the minority count − 1.
    pub k: usize,
    /// Minority rows wanted after oversampling, as a share of the majority count (default 1.0:
    /// balanced classes). Never removes rows: if the minority already reaches it, nothing is added.
    pub ratio: f64,
}

impl Default for SmoteParams {
    fn default() -> Self {
        SmoteParams { k: 5, ratio: 1.0 }
    }
}

/// One synthetic row and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Synthetic {
    /// The synthetic feature vector.
    pub features: Vec<f64>,
    /// Index (into the full matrix) of the minority row it starts from.
    pub base: usize,
    /// Index of the same-class neighbour it moves towards.
    pub neighbour: usize,
    /// Position on the segment, in [0, 1): `features = base + gap · (neighbour − base)`.
    pub gap: f64,
}

/// The output of [`oversample`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Oversampled {
    /// The class that was oversampled (the smaller one among the rows given; `true` on a tie).
    pub minority: bool,
    /// Minority rows among the rows given, before oversampling.
    pub minority_before: usize,
    /// Majority rows among the rows given.
    pub majority: usize,
    /// The synthetic rows, all of class `minority`.
    pub synthetic: Vec<Synthetic>,
}

/// Oversamples the minority class among `rows` of `x` until it has
/// `ceil(params.ratio × majority)` rows (or is left alone if it already has that many).
///
/// `x` is the full row-major feature matrix and `labels` the full label vector; only the
/// entries listed in `rows` are read.
///
/// ```
/// use customer_intel::ml::smote::{oversample, SmoteParams};
/// let x: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64, (i * i) as f64]).collect();
/// let y: Vec<bool> = (0..10).map(|i| i < 3).collect();
/// let rows: Vec<usize> = (0..10).collect();
/// let out = oversample(&x, &y, &rows, &SmoteParams { k: 2, ratio: 1.0 },
///                      &mut customer_intel::rng::stream(1, "smote")).unwrap();
/// assert!(out.minority);
/// assert_eq!(out.minority_before + out.synthetic.len(), 7); // balanced with the 7 negatives
/// ```
pub fn oversample(
    x: &[Vec<f64>],
    labels: &[bool],
    rows: &[usize],
    params: &SmoteParams,
    rng: &mut Rng,
) -> Result<Oversampled, SmoteError> {
    assert_eq!(x.len(), labels.len(), "one label per row");
    if params.k == 0 {
        return Err(SmoteError::ZeroNeighbours);
    }
    let width = rows.first().map_or(0, |&r| x[r].len());
    if let Some(&r) = rows.iter().find(|&&r| x[r].len() != width) {
        return Err(SmoteError::Ragged {
            row: r,
            got: x[r].len(),
            expected: width,
        });
    }
    let pos: Vec<usize> = rows.iter().copied().filter(|&r| labels[r]).collect();
    let neg: Vec<usize> = rows.iter().copied().filter(|&r| !labels[r]).collect();
    let (minority, members, majority) = if pos.len() <= neg.len() {
        (true, pos, neg.len())
    } else {
        (false, neg, pos.len())
    };
    let m = members.len();
    let target = (params.ratio * majority as f64).ceil().max(0.0) as usize;
    let mut out = Oversampled {
        minority,
        minority_before: m,
        majority,
        synthetic: Vec::new(),
    };
    if target <= m {
        return Ok(out);
    }
    if m < 2 {
        return Err(SmoteError::TooFewMinority(m));
    }
    let near = distinct_neighbours(x, &members, rows, params.k);

    let mut order: Vec<usize> = (0..m).collect();
    order.shuffle(rng);
    for j in 0..target - m {
        let a = order[j % m];
        let ra = members[a];
        let candidates = &near.neighbours[near.point_of[a]];
        let rb = if candidates.is_empty() {
            ra
        } else {
            candidates[rng.gen_range(0..candidates.len())]
        };
        let gap: f64 = rng.r#gen();
        let features = x[ra]
            .iter()
            .zip(&x[rb])
            .map(|(p, q)| p + gap * (q - p))
            .collect();
        out.synthetic.push(Synthetic {
            features,
            base: ra,
            neighbour: rb,
            gap,
        });
    }
    Ok(out)
}

/// The k nearest distinct neighbours of each distinct minority point (see the module notes).
struct Neighbours {
    /// For each member (by position in `members`), its distinct point.
    point_of: Vec<usize>,
    /// For each distinct point, the rows (first row of each neighbouring point) nearest first.
    neighbours: Vec<Vec<usize>>,
}

/// Groups `members` into distinct points (identical feature rows; the first row stands for its
/// point) and ranks, for each point, the other points by Euclidean distance on features
/// standardised with the mean and sample sd of all `rows` (ties: the earlier point), keeping
/// `min(k, points − 1)`.
fn distinct_neighbours(x: &[Vec<f64>], members: &[usize], rows: &[usize], k: usize) -> Neighbours {
    let width = members.first().map_or(0, |&r| x[r].len());
    let mut firsts: Vec<usize> = Vec::new();
    let mut point_of = Vec::with_capacity(members.len());
    let mut seen: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::new();
    for &r in members {
        let key: Vec<u64> = x[r].iter().map(|v| (v + 0.0).to_bits()).collect();
        let id = *seen.entry(key).or_insert_with(|| {
            firsts.push(r);
            firsts.len() - 1
        });
        point_of.push(id);
    }
    let scale: Vec<(f64, f64)> = (0..width)
        .map(|j| {
            let col: Vec<f64> = rows.iter().map(|&r| x[r][j]).collect();
            let sd = stats::sd(&col);
            (
                stats::mean(&col),
                if sd > 0.0 && sd.is_finite() { sd } else { 1.0 },
            )
        })
        .collect();
    // Row-major z-scores of the distinct points, `width` values each.
    // (A table without columns has every point at distance 0: one zero per point.)
    let w = width.max(1);
    let z: Vec<f64> = if width == 0 {
        vec![0.0; firsts.len()]
    } else {
        firsts
            .iter()
            .flat_map(|&r| x[r].iter().zip(&scale).map(|(v, (c, s))| (v - c) / s))
            .collect()
    };
    let p = firsts.len();
    let k = k.min(p.saturating_sub(1));
    let neighbours = nearest_k(&z, w, k)
        .into_iter()
        .map(|near| near.into_iter().map(|b| firsts[b]).collect())
        .collect();
    Neighbours {
        point_of,
        neighbours,
    }
}

/// `(distance, point)` order of the neighbour search: by squared distance, then by index.
#[inline(always)]
fn key_lt(u: &(f64, usize), v: &(f64, usize)) -> bool {
    u.0.total_cmp(&v.0).then(u.1.cmp(&v.1)).is_lt()
}

/// Offers `key` to `best`, the `k` smallest keys seen so far kept in ascending order.
#[inline(always)]
fn offer(best: &mut Vec<(f64, usize)>, key: (f64, usize), k: usize) {
    if best.len() == k && !key_lt(&key, &best[k - 1]) {
        return;
    }
    let at = best.partition_point(|e| key_lt(e, &key));
    best.insert(at, key);
    best.truncate(k);
}

/// For each of the `z.len() / w` points (row-major, `w` values each), the `k` other points
/// smallest in `(squared distance, index)` order, nearest first (`k` below the number of
/// points).
///
/// The points are sorted along the column with the most distinct values, and each point's
/// search walks outward from it in that order, stopping in a direction once the squared gap in
/// that column alone exceeds the k-th best squared distance so far. That gap, computed as
/// [`sq_dist`] computes that column's term, is never larger than the whole computed distance
/// (every other term adds a non-negative value, and rounding is monotone) and only grows along the
/// walk, so no point left unvisited could enter the k best: the result is [`nearest_k_all`]'s,
/// which compares every pair.
fn nearest_k(z: &[f64], w: usize, k: usize) -> Vec<Vec<usize>> {
    let p = z.len() / w;
    if k == 0 {
        return vec![Vec::new(); p];
    }
    let axis = (0..w)
        .max_by_key(|&j| {
            let mut col: Vec<u64> = (0..p).map(|i| (z[i * w + j] + 0.0).to_bits()).collect();
            col.sort_unstable();
            col.dedup();
            (col.len(), std::cmp::Reverse(j))
        })
        .unwrap_or(0);
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&a, &b| z[a * w + axis].total_cmp(&z[b * w + axis]).then(a.cmp(&b)));
    let mut pos = vec![0; p];
    for (at, &i) in order.iter().enumerate() {
        pos[i] = at;
    }
    let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
    (0..p)
        .map(|a| {
            best.clear();
            let za = &z[a * w..(a + 1) * w];
            let ca = za[axis];
            let far = |best: &Vec<(f64, usize)>, cb: f64| {
                let gap = ca - cb;
                best.len() == k && gap * gap > best[k - 1].0
            };
            let (mut up, mut down) = (pos[a] + 1, pos[a]);
            let (mut up_open, mut down_open) = (up < p, down > 0);
            while up_open || down_open {
                if up_open {
                    let b = order[up];
                    let zb = &z[b * w..(b + 1) * w];
                    if far(&best, zb[axis]) {
                        up_open = false;
                    } else {
                        offer(&mut best, (sq_dist(za, zb), b), k);
                        up += 1;
                        up_open = up < p;
                    }
                }
                if down_open {
                    let b = order[down - 1];
                    let zb = &z[b * w..(b + 1) * w];
                    if far(&best, zb[axis]) {
                        down_open = false;
                    } else {
                        offer(&mut best, (sq_dist(za, zb), b), k);
                        down -= 1;
                        down_open = down > 0;
                    }
                }
            }
            best.iter().map(|&(_, b)| b).collect()
        })
        .collect()
}

/// [`nearest_k`] by comparing every pair of points (the reference it is tested against).
#[cfg(test)]
fn nearest_k_all(z: &[f64], w: usize, k: usize) -> Vec<Vec<usize>> {
    let p = z.len() / w;
    let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
    (0..p)
        .map(|a| {
            best.clear();
            if k > 0 {
                let za = &z[a * w..(a + 1) * w];
                for (b, zb) in z.chunks_exact(w).enumerate() {
                    if b != a {
                        offer(&mut best, (sq_dist(za, zb), b), k);
                    }
                }
            }
            best.iter().map(|&(_, b)| b).collect()
        })
        .collect()
}

/// Squared Euclidean distance summed in column order, compiled per small width so the loop is
/// unrolled (the same arithmetic, so the same bits, for every width).
#[inline(always)]
fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    #[inline(always)]
    fn run<const D: usize>(a: &[f64], b: &[f64]) -> f64 {
        let w = if D == 0 { a.len() } else { D };
        let (a, b) = (&a[..w], &b[..w]);
        let mut s = 0.0;
        for t in 0..w {
            s += (a[t] - b[t]) * (a[t] - b[t]);
        }
        s
    }
    match a.len() {
        5 => run::<5>(a, b),
        6 => run::<6>(a, b),
        7 => run::<7>(a, b),
        8 => run::<8>(a, b),
        9 => run::<9>(a, b),
        _ => run::<0>(a, b),
    }
}

/// The neighbour sets [`oversample`] draws from, for inspection: for each distinct minority
/// point among `rows` (identified by its first row), the rows standing for its `k` nearest
/// distinct same-class points, nearest first. Row indices are into `x`.
///
/// ```
/// use customer_intel::ml::smote::minority_neighbours;
/// // Rows 0 and 1 are copies; rows 3, 5, 6 and 7 are the other class.
/// let x: Vec<Vec<f64>> = [0.0, 0.0, 1.0, 5.0, 3.0, 6.0, 7.0, 8.0].iter().map(|&v| vec![v]).collect();
/// let y = vec![true, true, true, false, true, false, false, false];
/// let n = minority_neighbours(&x, &y, &(0..8).collect::<Vec<_>>(), 1);
/// assert_eq!(n, vec![(0, vec![2]), (2, vec![0]), (4, vec![2])]);
/// ```
pub fn minority_neighbours(
    x: &[Vec<f64>],
    labels: &[bool],
    rows: &[usize],
    k: usize,
) -> Vec<(usize, Vec<usize>)> {
    let pos = rows.iter().filter(|&&r| labels[r]).count();
    let minority = pos <= rows.len() - pos;
    let members: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| labels[r] == minority)
        .collect();
    let near = distinct_neighbours(x, &members, rows, k);
    let mut firsts: Vec<usize> = Vec::new();
    for (i, &p) in near.point_of.iter().enumerate() {
        if p == firsts.len() {
            firsts.push(members[i]);
        }
    }
    firsts.into_iter().zip(near.neighbours).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    /// The pruned neighbour walk finds every point's k nearest exactly as comparing all pairs
    /// does (same points, same order): continuous and coarse integer columns (many ties in
    /// distance and in the sorted column), copies, widths 1 to 9, k from 1 to points − 1.
    #[test]
    fn pruned_neighbour_walk_equals_all_pairs() {
        use rand::Rng as _;
        let mut r = rng::stream(3, "smote-walk");
        let mut cases = 0;
        for w in [1usize, 2, 5, 6, 9] {
            for p in [2usize, 3, 17, 240] {
                for coarse in [false, true] {
                    let mut z: Vec<f64> = (0..p * w)
                        .map(|_| {
                            if coarse {
                                r.gen_range(-2..3) as f64 * 0.5
                            } else {
                                r.gen_range(-3.0..3.0)
                            }
                        })
                        .collect();
                    if p > 4 {
                        let copy = z[..w].to_vec();
                        z[3 * w..4 * w].copy_from_slice(&copy);
                    }
                    for k in [1, 2, 5, p - 1] {
                        let k = k.min(p - 1);
                        assert_eq!(
                            nearest_k(&z, w, k),
                            nearest_k_all(&z, w, k),
                            "w {w} p {p} coarse {coarse} k {k}"
                        );
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 5 * 4 * 2 * 4);
    }

    /// 30 rows in 3-D with unequal column scales; every third row positive.
    fn toy() -> (Vec<Vec<f64>>, Vec<bool>) {
        let x = (0..30)
            .map(|i| {
                let t = i as f64;
                vec![t.sin() * 3.0, 1000.0 * (t * 0.7).cos(), (t * 1.3) % 5.0]
            })
            .collect();
        let y = (0..30).map(|i| i % 3 == 0).collect();
        (x, y)
    }

    /// Whether `p` lies on the segment between `a` and `b` (collinear, between the ends),
    /// judged from the coordinates alone.
    fn on_segment(p: &[f64], a: &[f64], b: &[f64]) -> bool {
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        let dd: f64 = d.iter().map(|v| v * v).sum();
        if dd == 0.0 {
            return p.iter().zip(a).all(|(x, y)| (x - y).abs() < 1e-9);
        }
        let t = p
            .iter()
            .zip(a)
            .zip(&d)
            .map(|((x, y), e)| (x - y) * e)
            .sum::<f64>()
            / dd;
        (-1e-12..=1.0 + 1e-12).contains(&t)
            && p.iter()
                .zip(a)
                .zip(&d)
                .all(|((x, y), e)| (x - (y + t * e)).abs() <= 1e-9 * (1.0 + x.abs()))
    }

    #[test]
    fn synthetic_points_lie_on_segments_between_k_nearest_same_class_neighbours() {
        let (x, y) = toy();
        let rows: Vec<usize> = (0..30).collect();
        let params = SmoteParams { k: 3, ratio: 1.0 };
        let out = oversample(&x, &y, &rows, &params, &mut rng::stream(7, "smote")).unwrap();
        assert!(out.minority);
        assert_eq!(out.minority_before, 10);
        assert_eq!(out.synthetic.len(), 10); // 10 positives grown to the 20 negatives
        // Independent neighbour computation: standardise by hand, rank distances.
        let means: Vec<f64> = (0..3)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / 30.0)
            .collect();
        let sds: Vec<f64> = (0..3)
            .map(|j| (x.iter().map(|r| (r[j] - means[j]).powi(2)).sum::<f64>() / 29.0).sqrt())
            .collect();
        let zd = |a: usize, b: usize| -> f64 {
            (0..3).map(|j| ((x[a][j] - x[b][j]) / sds[j]).powi(2)).sum()
        };
        for s in &out.synthetic {
            assert!(y[s.base] && y[s.neighbour] && s.base != s.neighbour);
            assert!(
                on_segment(&s.features, &x[s.base], &x[s.neighbour]),
                "{s:?}"
            );
            let closer = (0..30)
                .filter(|&c| y[c] && c != s.base && zd(s.base, c) < zd(s.base, s.neighbour))
                .count();
            assert!(
                closer < 3,
                "neighbour {} is not among the 3 nearest of {}",
                s.neighbour,
                s.base
            );
        }
    }

    #[test]
    fn class_count_comes_out_as_asked() {
        let (x, y) = toy();
        let rows: Vec<usize> = (0..30).collect();
        for (ratio, want) in [(1.0, 20), (0.75, 15), (0.5, 10), (0.2, 10), (1.5, 30)] {
            let out = oversample(
                &x,
                &y,
                &rows,
                &SmoteParams { k: 5, ratio },
                &mut rng::stream(1, "s"),
            )
            .unwrap();
            assert_eq!(
                out.minority_before + out.synthetic.len(),
                want,
                "ratio {ratio}"
            );
            assert!(out.synthetic.iter().all(|s| y[s.base]));
        }
        // The negatives are the minority here: they get oversampled.
        let flipped: Vec<bool> = y.iter().map(|l| !l).collect();
        let out = oversample(
            &x,
            &flipped,
            &rows,
            &SmoteParams::default(),
            &mut rng::stream(1, "s"),
        )
        .unwrap();
        assert!(!out.minority);
        assert_eq!(out.synthetic.len(), 10);
    }

    #[test]
    fn only_the_given_rows_are_used() {
        let (x, y) = toy();
        // A "training fold": every row except 0..10 (the "test fold").
        let train: Vec<usize> = (10..30).collect();
        let out = oversample(
            &x,
            &y,
            &train,
            &SmoteParams { k: 4, ratio: 1.0 },
            &mut rng::stream(3, "s"),
        )
        .unwrap();
        assert_eq!(out.minority_before, 6); // positives 12, 15, ..., 27
        assert_eq!(out.synthetic.len(), 14 - 6);
        let train_pos: Vec<usize> = train.iter().copied().filter(|&r| y[r]).collect();
        for s in &out.synthetic {
            assert!(train.contains(&s.base) && train.contains(&s.neighbour));
            // Geometric check independent of the reported provenance: some pair of training
            // positives spans a segment through the point.
            let spanned = train_pos.iter().any(|&a| {
                train_pos
                    .iter()
                    .any(|&b| a != b && on_segment(&s.features, &x[a], &x[b]))
            });
            assert!(spanned, "{s:?} is on no segment between training positives");
        }
        // Changing test-fold rows changes nothing.
        let mut x2 = x.clone();
        for r in x2.iter_mut().take(10) {
            r.iter_mut().for_each(|v| *v = 1e6);
        }
        let out2 = oversample(
            &x2,
            &y,
            &train,
            &SmoteParams { k: 4, ratio: 1.0 },
            &mut rng::stream(3, "s"),
        )
        .unwrap();
        assert_eq!(out, out2);
    }

    #[test]
    fn seeded_and_checked() {
        let (x, y) = toy();
        let rows: Vec<usize> = (0..30).collect();
        let p = SmoteParams::default();
        let a = oversample(&x, &y, &rows, &p, &mut rng::stream(5, "s")).unwrap();
        assert_eq!(
            a,
            oversample(&x, &y, &rows, &p, &mut rng::stream(5, "s")).unwrap()
        );
        assert_ne!(
            a,
            oversample(&x, &y, &rows, &p, &mut rng::stream(6, "s")).unwrap()
        );
        assert_eq!(
            oversample(
                &x,
                &y,
                &rows,
                &SmoteParams { k: 0, ratio: 1.0 },
                &mut rng::stream(5, "s")
            ),
            Err(SmoteError::ZeroNeighbours)
        );
        assert_eq!(
            oversample(&x, &y, &[0, 1, 2, 4], &p, &mut rng::stream(5, "s")),
            Err(SmoteError::TooFewMinority(1))
        );
    }
}
