//! A two-class CART tree fit that gives exactly the tree linfa-trees 0.8 fits (Gini, the same
//! node, split value, impurity decrease and prediction bit for bit), but fast.
//!
//! linfa-trees' `DecisionTreeValidParams::fit` scans every row of the training set at every node
//! for every feature, keeping class weights in a `HashMap` that it hashes per row and re-sums per
//! candidate split. This fit keeps each node's rows, and for each feature the node's rows in the
//! feature's sorted order, in contiguous segments that a split partitions stably (so a node only
//! touches its own rows), and counts the two classes in two `f32` accumulators.
//!
//! Everything that decides linfa's result is reproduced, including its quirks:
//!
//! - Class weights are `f32`, summed in row order for a node's own frequencies and added to /
//!   subtracted from in the feature's sorted order along a scan, exactly as linfa does.
//! - A node is split only if its *row count* (not its weight) is at least `min_weight_split`.
//! - Each feature's order is the order of the whole training set, sorted once by value with a
//!   stable sort and `partial_cmp` (unordered pairs compare as "greater"). Along a scan, the
//!   "next value equal within 1e-5" test and the midpoint split value use the next value of that
//!   *global* order, even when its row is not in the node; the globally last row is never moved
//!   to the left side.
//! - A candidate's score is `w·gini(right) + (1 − w)·gini(left)` with `w` = right weight / node
//!   weight, all in `f32`; a candidate replaces the best one only with a strictly smaller score,
//!   features in index order, rows in sorted order.
//! - The impurity decrease is `f64(gini(node)) − f64(best score)`; a node splits only if it is
//!   not below `min_impurity_decrease`. Rows with `x ≤ split` go left, the left subtree is fitted
//!   first, a child is absent when no row goes its way, and a node missing a child is marked a
//!   leaf (keeping its split and its other child).
//! - After fitting, linfa's post-order pruning merges two leaf children that predict the same
//!   class into their parent (which keeps its split fields); it does not descend below a node
//!   already marked a leaf.
//!
//! Two deliberate differences, both where linfa has no reproducible answer:
//!
//! - When a node's two class weights are exactly equal, linfa's modal class depends on the
//!   iteration order of a randomly seeded `HashMap` (a different answer from run to run); here
//!   the tie goes to the positive class. Callers that weigh positives 1 + 2⁻¹² and negatives 1
//!   (see `classifiers::POSITIVE_WEIGHT`) never meet such a tie below 4096 rows, so there the
//!   two fits agree exactly.
//! - A split that sends every row of its node one way (possible only when the midpoint equals
//!   the larger value: two adjacent floats above about 4.5e10, or an infinite value) makes
//!   linfa refit the same rows one level down, again and again: with a depth cap the chain ends
//!   there, and this fit reproduces it; without one linfa overflows its stack, and this fit
//!   stops at that node.
//!
//! Values that `partial_cmp` cannot order (NaN) are sorted by linfa's own call, so they take
//! linfa's path too; the classification never passes any (it runs on rows without gaps).

use std::cmp::Ordering;

use linfa::ParamGuard;
use linfa_trees::{DecisionTreeValidParams, SplitQuality};
use thiserror::Error;

/// The stopping rules of a fit, with linfa-trees' meaning of each field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeParams {
    /// Nodes at this depth (the root has depth 0) are leaves; `None` means unlimited.
    pub max_depth: Option<usize>,
    /// A node holding fewer *rows* than this (linfa compares the row count, not the weight) is
    /// a leaf. linfa's default: 2.
    pub min_weight_split: f32,
    /// A candidate split leaving less weight than this on either side is skipped. linfa's
    /// default: 1.
    pub min_weight_leaf: f32,
    /// A split whose impurity decrease is below this is not made. linfa's default: 1e-5; it
    /// must be positive (linfa's parameter check requires it).
    pub min_impurity_decrease: f64,
}

impl TreeParams {
    /// linfa-trees' default stopping rules (read from its own parameter defaults) with the
    /// given depth cap.
    pub fn linfa_defaults(max_depth: Option<usize>) -> Self {
        // Checking linfa's defaults cannot fail; should a future version's fail, the values
        // linfa-trees 0.8 documents are used.
        linfa_trees::DecisionTree::<f64, bool>::params()
            .max_depth(max_depth)
            .check()
            .ok()
            .and_then(|p| TreeParams::from_linfa(&p))
            .unwrap_or(TreeParams {
                max_depth,
                min_weight_split: 2.0,
                min_weight_leaf: 1.0,
                min_impurity_decrease: 1e-5,
            })
    }

    /// The stopping rules of checked linfa-trees parameters; `None` for the entropy criterion,
    /// which this fit does not implement.
    pub fn from_linfa(p: &DecisionTreeValidParams<f64, bool>) -> Option<Self> {
        (p.split_quality() == SplitQuality::Gini).then_some(TreeParams {
            max_depth: p.max_depth(),
            min_weight_split: p.min_weight_split(),
            min_weight_leaf: p.min_weight_leaf(),
            min_impurity_decrease: p.min_impurity_decrease(),
        })
    }
}

/// A tree could not be fitted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TreeError {
    /// No training rows (linfa panics here: a node needs a modal class).
    #[error("a decision tree needs at least one training row")]
    NoRows,
    /// The inputs disagree on the number of rows or the feature matrix is not rows × columns.
    #[error("the tree's inputs do not fit together: {0}")]
    Shape(String),
    /// Row indices are kept in 32 bits.
    #[error("a decision tree takes at most {max} rows, not {rows}", max = u32::MAX)]
    TooManyRows {
        /// The number of rows given.
        rows: usize,
    },
    /// The minimum impurity decrease must be positive, as linfa-trees' parameter check requires.
    #[error("the minimum impurity decrease must be positive, not {0}")]
    MinImpurityDecrease(f64),
}

/// One node of a fitted [`Tree`], with the fields of linfa-trees' `TreeNode`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Column the node splits on (0 for a node fitted as a leaf).
    pub feature: usize,
    /// Rows with `x[feature] <= split` went left (0 for a node fitted as a leaf).
    pub split: f64,
    /// Gini of the node minus the split's weighted Gini (0 for a node fitted as a leaf).
    pub impurity_decrease: f64,
    /// Index of the left child in [`Tree::nodes`], if any row went left.
    pub left: Option<usize>,
    /// Index of the right child in [`Tree::nodes`], if any row went right.
    pub right: Option<usize>,
    /// Whether a row stops here: fitted as a leaf, split with a child missing, or pruned.
    pub leaf: bool,
    /// The class with the larger weight among the node's training rows (meaningful at leaves).
    pub prediction: bool,
    /// Distance from the root (0 at the root).
    pub depth: usize,
}

/// A fitted tree: nodes in pre-order (the root first, a left subtree before the right), so every
/// child's index is larger than its parent's. Only nodes reachable from the root are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// All nodes; index 0 is the root.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The index of the node a row stops at, by the rule the tree was trained with (`x[f] <=
    /// split` goes left): a leaf, or a split lacking the child the row would go to. `x(j)` is
    /// the row's column `j`.
    pub fn leaf(&self, x: &dyn Fn(usize) -> f64) -> usize {
        let mut i = 0;
        loop {
            let n = &self.nodes[i];
            if n.leaf {
                return i;
            }
            let next = if x(n.feature) <= n.split {
                n.left
            } else {
                n.right
            };
            match next {
                Some(c) => i = c,
                None => return i,
            }
        }
    }
}

/// Fits a tree on `n_rows` rows of the column-major matrix `x` (column `j` is
/// `x[j·n_rows .. (j+1)·n_rows]`) with two-class labels and positive `f32` row weights.
pub fn fit(
    x: &[f64],
    n_rows: usize,
    labels: &[bool],
    weights: &[f32],
    params: &TreeParams,
) -> Result<Tree, TreeError> {
    if n_rows == 0 {
        return Err(TreeError::NoRows);
    }
    if u32::try_from(n_rows).is_err() {
        return Err(TreeError::TooManyRows { rows: n_rows });
    }
    if labels.len() != n_rows || weights.len() != n_rows || !x.len().is_multiple_of(n_rows) {
        return Err(TreeError::Shape(format!(
            "{n_rows} rows, {} labels, {} weights, {} feature values",
            labels.len(),
            weights.len(),
            x.len()
        )));
    }
    // Written as a negation so that NaN is refused as well.
    if !(params.min_impurity_decrease > 0.0) {
        return Err(TreeError::MinImpurityDecrease(params.min_impurity_decrease));
    }
    let mut b = Builder::new(x, n_rows, labels, weights, params);
    b.grow();
    let mut tree = Tree { nodes: b.nodes };
    tree.prune();
    tree.keep_reachable();
    Ok(tree)
}

/// One row at one position of a feature's global sorted order.
#[derive(Debug, Clone, Copy)]
struct Slot {
    row: u32,
    weight: f32,
    positive: bool,
    /// Whether the next value in the global order is within 1e-5 of this one (linfa does not
    /// consider a split between them).
    same_as_next: bool,
}

struct Builder<'a> {
    n: usize,
    width: usize,
    x: &'a [f64],
    labels: &'a [bool],
    weights: &'a [f32],
    params: TreeParams,
    /// Feature `f`'s global order at `f·n ..`: the row at each position.
    slots: Vec<Slot>,
    /// Feature `f`'s midpoint between position `p` and `p + 1` at `f·n + p` (NaN at the last).
    mids: Vec<f64>,
    /// Each node's rows in ascending row order, as one segment `lo..hi`.
    rows: Vec<u32>,
    /// Per feature (at `f·n ..`), each node's positions in that feature's global order,
    /// ascending, in the same segment `lo..hi` as `rows`.
    positions: Vec<u32>,
    /// Which side each row of the node being split goes to (true: left).
    left_side: Vec<bool>,
    /// Scratch space of a stable partition.
    spill: Vec<u32>,
    nodes: Vec<Node>,
}

/// Gini impurity of two class weights, as linfa computes it over its class-weight map:
/// `n = Σ w`, `1 − Σ (w/n)²`. A class absent from linfa's map is a zero here, which changes
/// nothing: `a + 0 = a` exactly, and `(0/n)² = 0` adds exactly nothing. Each sum has two terms
/// (after linfa's fold starts from ±0, which adds nothing to a non-negative-zero term), and a
/// two-term floating-point sum is the same in either order, so the map's iteration order does
/// not matter either.
fn gini(a: f32, b: f32) -> f32 {
    let n = a + b;
    let (p, q) = (a / n, b / n);
    1.0 - (p * p + q * q)
}

impl<'a> Builder<'a> {
    fn new(
        x: &'a [f64],
        n: usize,
        labels: &'a [bool],
        weights: &'a [f32],
        params: &TreeParams,
    ) -> Self {
        let width = x.len() / n;
        let mut slots = Vec::with_capacity(width * n);
        let mut mids = Vec::with_capacity(width * n);
        let mut pairs: Vec<(usize, f64)> = Vec::with_capacity(n);
        for f in 0..width {
            pairs.clear();
            pairs.extend(x[f * n..(f + 1) * n].iter().copied().enumerate());
            // linfa's sort, verbatim in effect: same element type, same comparator, same stable
            // sort, hence the same order even for values `partial_cmp` cannot order.
            pairs.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Greater));
            for (p, &(row, v)) in pairs.iter().enumerate() {
                let next = pairs.get(p + 1).map(|q| q.1);
                slots.push(Slot {
                    row: row as u32,
                    weight: weights[row],
                    positive: labels[row],
                    same_as_next: next.is_some_and(|w| (v - w).abs() < 1e-5),
                });
                mids.push(next.map_or(f64::NAN, |w| (v + w) / 2.0));
            }
        }
        let all: Vec<u32> = (0..n as u32).collect();
        let mut positions = Vec::with_capacity(width * n);
        for _ in 0..width {
            positions.extend_from_slice(&all);
        }
        Builder {
            n,
            width,
            x,
            labels,
            weights,
            params: *params,
            slots,
            mids,
            rows: all,
            positions,
            left_side: vec![false; n],
            spill: Vec::with_capacity(n),
            nodes: Vec::new(),
        }
    }

    /// Fits every node, depth first, left before right (so nodes land in pre-order).
    fn grow(&mut self) {
        struct Task {
            lo: usize,
            hi: usize,
            depth: usize,
            parent: Option<(usize, bool)>,
        }
        let mut stack = vec![Task {
            lo: 0,
            hi: self.n,
            depth: 0,
            parent: None,
        }];
        while let Some(t) = stack.pop() {
            let id = self.nodes.len();
            match t.parent {
                Some((p, true)) => self.nodes[p].left = Some(id),
                Some((p, false)) => self.nodes[p].right = Some(id),
                None => {}
            }
            let (node, n_left) = self.node(t.lo, t.hi, t.depth);
            self.nodes.push(node);
            if let Some(n_left) = n_left {
                let mid = t.lo + n_left;
                // Pushed right first so that the left subtree is fitted (and numbered) first.
                if mid < t.hi {
                    stack.push(Task {
                        lo: mid,
                        hi: t.hi,
                        depth: t.depth + 1,
                        parent: Some((id, false)),
                    });
                }
                if n_left > 0 {
                    stack.push(Task {
                        lo: t.lo,
                        hi: mid,
                        depth: t.depth + 1,
                        parent: Some((id, true)),
                    });
                }
            }
        }
    }

    /// Fits the node holding segment `lo..hi`; when it splits, partitions the segment (left
    /// rows first) and returns the left count too.
    fn node(&mut self, lo: usize, hi: usize, depth: usize) -> (Node, Option<usize>) {
        // The node's class weights, in row order (linfa's `label_frequencies_with_mask`).
        let (mut pos, mut neg) = (0.0f32, 0.0f32);
        let (mut has_pos, mut has_neg) = (false, false);
        for &r in &self.rows[lo..hi] {
            let r = r as usize;
            if self.labels[r] {
                pos += self.weights[r];
                has_pos = true;
            } else {
                neg += self.weights[r];
                has_neg = true;
            }
        }
        // linfa's modal class: the heavier class; with one class present, that class; an exact
        // tie (random in linfa) goes to the positive class.
        let prediction = match (has_pos, has_neg) {
            (true, true) => pos >= neg,
            (has_pos, _) => has_pos,
        };
        let leaf = Node {
            feature: 0,
            split: 0.0,
            impurity_decrease: 0.0,
            left: None,
            right: None,
            leaf: true,
            prediction,
            depth,
        };
        let p = self.params;
        if (((hi - lo) as f32) < p.min_weight_split) || p.max_depth.is_some_and(|d| depth >= d) {
            return (leaf, None);
        }

        // The node's weight: linfa sums its map's values; with an absent class as 0 that is
        // `pos + neg` in either order (see `gini`).
        let total = pos + neg;
        let n = self.n;
        let mut best: Option<(usize, usize, f32)> = None;
        for f in 0..self.width {
            let slots = &self.slots[f * n..(f + 1) * n];
            let (mut right_pos, mut right_neg) = (pos, neg);
            let (mut left_pos, mut left_neg) = (0.0f32, 0.0f32);
            let (mut right, mut left) = (total, 0.0f32);
            for &at in &self.positions[f * n + lo..f * n + hi] {
                let at = at as usize;
                // linfa's scan stops before the globally last position, and positions ascend.
                if at + 1 == n {
                    break;
                }
                let s = slots[at];
                if s.positive {
                    right_pos -= s.weight;
                    left_pos += s.weight;
                } else {
                    right_neg -= s.weight;
                    left_neg += s.weight;
                }
                right -= s.weight;
                left += s.weight;
                if s.same_as_next {
                    continue;
                }
                if right < p.min_weight_leaf || left < p.min_weight_leaf {
                    continue;
                }
                let w = right / total;
                let score = w * gini(right_pos, right_neg) + (1.0 - w) * gini(left_pos, left_neg);
                let better = match best {
                    None => true,
                    Some((_, _, b)) => score < b,
                };
                if better {
                    best = Some((f, at, score));
                }
            }
        }
        let Some((feature, at, score)) = best else {
            // linfa: no candidate means an impurity decrease of 0, below the (positive) minimum.
            return (leaf, None);
        };
        let impurity_decrease = f64::from(gini(pos, neg)) - f64::from(score);
        if impurity_decrease < p.min_impurity_decrease {
            return (leaf, None);
        }
        let split = self.mids[feature * n + at];

        // Partition the node: rows with x <= split go left, keeping every segment's order.
        let column = &self.x[feature * n..(feature + 1) * n];
        let mut n_left = 0;
        for &r in &self.rows[lo..hi] {
            let goes_left = column[r as usize] <= split;
            self.left_side[r as usize] = goes_left;
            n_left += usize::from(goes_left);
        }
        let n_right = hi - lo - n_left;
        // The split node, its children to be attached by the caller.
        let node = |leaf| Node {
            feature,
            split,
            impurity_decrease,
            left: None,
            right: None,
            leaf,
            prediction,
            depth,
        };
        if (n_left == 0 || n_right == 0) && p.max_depth.is_none() {
            // Every row went one way (the midpoint equals the larger value: two adjacent floats
            // above about 4.5e10, where adjacent floats lie 1e-5 apart or more, or an infinite
            // value): the child would hold these same rows and repeat this split forever; linfa
            // recurses until its stack overflows. With no depth cap the node stops here, a leaf
            // keeping its split and no children.
            return (node(true), None);
        }
        stable_partition(&mut self.rows[lo..hi], &mut self.spill, |r| {
            self.left_side[r as usize]
        });
        // The per-feature orders are only read by children that may split.
        let child_may_split = |count: usize| {
            (count as f32) >= p.min_weight_split && p.max_depth.is_none_or(|d| depth + 1 < d)
        };
        if child_may_split(n_left) || child_may_split(n_right) {
            for f in 0..self.width {
                let slots = &self.slots[f * n..(f + 1) * n];
                let side = &self.left_side;
                stable_partition(
                    &mut self.positions[f * n + lo..f * n + hi],
                    &mut self.spill,
                    |at| side[slots[at as usize].row as usize],
                );
            }
        }
        (node(n_left == 0 || n_right == 0), Some(n_left))
    }
}

/// Moves the items for which `left` holds to the front, keeping the order on both sides.
fn stable_partition(items: &mut [u32], spill: &mut Vec<u32>, left: impl Fn(u32) -> bool) {
    spill.clear();
    let mut k = 0;
    for i in 0..items.len() {
        let v = items[i];
        if left(v) {
            items[k] = v;
            k += 1;
        } else {
            spill.push(v);
        }
    }
    items[k..].copy_from_slice(spill);
}

impl Tree {
    /// linfa's pruning, without recursion: a node that is not a leaf whose two children each
    /// prune to a prediction, the same one, becomes a leaf with that prediction and no children
    /// (its split fields stay); a leaf prunes to its prediction; anything else to nothing. As in
    /// linfa, nodes below a node already marked a leaf are not visited.
    fn prune(&mut self) {
        let len = self.nodes.len();
        let mut visited = vec![false; len];
        visited[0] = true;
        for i in 0..len {
            if visited[i] && !self.nodes[i].leaf {
                for c in [self.nodes[i].left, self.nodes[i].right]
                    .into_iter()
                    .flatten()
                {
                    visited[c] = true;
                }
            }
        }
        // Children have larger indices than their parent: a reverse sweep is post-order.
        let mut pruned: Vec<Option<bool>> = vec![None; len];
        for i in (0..len).rev() {
            if !visited[i] {
                continue;
            }
            let node = &self.nodes[i];
            if node.leaf {
                pruned[i] = Some(node.prediction);
                continue;
            }
            let left = node.left.and_then(|c| pruned[c]);
            let right = node.right.and_then(|c| pruned[c]);
            if let (Some(a), Some(b)) = (left, right)
                && a == b
            {
                let node = &mut self.nodes[i];
                node.prediction = a;
                node.left = None;
                node.right = None;
                node.leaf = true;
                pruned[i] = Some(a);
            }
        }
    }

    /// Drops the nodes pruning cut off, renumbering the rest (still in pre-order).
    fn keep_reachable(&mut self) {
        let len = self.nodes.len();
        let mut reached = vec![false; len];
        reached[0] = true;
        for i in 0..len {
            if reached[i] {
                for c in [self.nodes[i].left, self.nodes[i].right]
                    .into_iter()
                    .flatten()
                {
                    reached[c] = true;
                }
            }
        }
        if reached.iter().all(|&r| r) {
            return;
        }
        let mut new_index = vec![usize::MAX; len];
        let mut next = 0;
        for i in 0..len {
            if reached[i] {
                new_index[i] = next;
                next += 1;
            }
        }
        let nodes = std::mem::take(&mut self.nodes);
        self.nodes = nodes
            .into_iter()
            .zip(reached)
            .filter(|(_, r)| *r)
            .map(|(mut n, _)| {
                n.left = n.left.map(|c| new_index[c]);
                n.right = n.right.map(|c| new_index[c]);
                n
            })
            .collect();
    }
}
