//! Classifier wrappers over plain rows of encoded features: a logistic regression
//! ([`crate::ml::logistic`], linfa-logistic's objective solved by Newton's method), one decision tree ([`crate::ml::tree`], linfa-trees' fit reproduced exactly)
//! and a random forest (linfa-ensemble's bagging of that tree, reproduced on row slices), each
//! giving positive-class probabilities, and the plain serialisable form a fitted classifier is
//! saved in ([`SavedClassifier`]).
//!
//! Two paths share every fitting step: [`fit_predict`] scores rows with the library's own
//! objects (what cross-validation uses), [`fit`] writes the same fitted model out as a
//! [`SavedClassifier`] whose [`SavedClassifier::probability`] gives the same numbers. A training
//! set with one class fits no model: it predicts that class with probability 1.
//!
//! The logistic regression standardises its inputs with the statistics of the rows it is fitted
//! on. Trees weigh positive rows slightly above 1 so that class ties break deterministically
//! (see `POSITIVE_WEIGHT`); a tree's probability is the positive share of the training rows
//! in a row's leaf, a forest's the share of trees voting positive.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ml::logistic::{self, Logistic};
use crate::ml::tree::{self, Tree, TreeParams};
use crate::rng;
use crate::stats;

/// The classifiers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassifierKind {
    /// L2-penalised logistic regression ([`crate::ml::logistic`]: linfa-logistic's objective,
    /// solved by Newton's method) on features standardised in-fold.
    Logistic,
    /// One CART tree (linfa-trees' fit, Gini, reproduced by [`crate::ml::tree`]); probability =
    /// positive share of its leaf's training rows.
    DecisionTree,
    /// Bagged CART trees with a random feature subspace per tree (linfa-ensemble's bagging);
    /// probability = share of trees voting positive.
    RandomForest,
}

impl ClassifierKind {
    /// Every model, simplest first.
    pub const ALL: [ClassifierKind; 3] = [
        ClassifierKind::Logistic,
        ClassifierKind::DecisionTree,
        ClassifierKind::RandomForest,
    ];

    /// A display name, for example "logistic regression".
    pub fn name(self) -> &'static str {
        match self {
            ClassifierKind::Logistic => "logistic regression",
            ClassifierKind::DecisionTree => "decision tree",
            ClassifierKind::RandomForest => "random forest",
        }
    }
}

/// Hyper-parameters of the three classifiers. The defaults are those of the classification
/// analysis' settings, which hold the same fields under the same names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierParams {
    /// L2 penalty of the logistic regression on standardised features (linfa's `alpha`, the
    /// inverse of sklearn's `C`; default 1.0).
    pub logistic_alpha: f64,
    /// Cap on the logistic regression's Newton steps (default 100; fits converge in 5 to 20).
    pub logistic_max_iterations: u64,
    /// Depth cap of the single decision tree; 0 means unlimited (default 4).
    pub tree_max_depth: usize,
    /// Trees in the random forest (default 10).
    pub forest_trees: usize,
    /// Depth cap of each forest tree; 0 means unlimited (default 4).
    pub forest_max_depth: usize,
    /// Share of training rows drawn (with replacement) for each forest tree (default 0.5).
    pub forest_bootstrap_proportion: f64,
    /// Share of encoded feature columns drawn (with replacement, per tree: linfa-ensemble's
    /// random subspace) for each forest tree (default 0.7).
    pub forest_feature_proportion: f64,
}

impl Default for ClassifierParams {
    fn default() -> Self {
        ClassifierParams {
            logistic_alpha: 1.0,
            logistic_max_iterations: 100,
            tree_max_depth: 4,
            forest_trees: 10,
            forest_max_depth: 4,
            forest_bootstrap_proportion: 0.5,
            forest_feature_proportion: 0.7,
        }
    }
}

/// A classifier could not be fitted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClassifierError {
    /// The underlying library refused the parameters or the data.
    #[error("fitting the {model} failed: {message}")]
    Fit {
        /// The model's display name ([`ClassifierKind::name`]).
        model: &'static str,
        /// The library's message.
        message: String,
    },
}

/// Tie-breaking class weight of positive rows in the trees (negatives weigh 1).
///
/// linfa-trees picks a leaf's class by iterating a `HashMap` of class weights, whose order is
/// randomly seeded per map, so an exact tie between the classes would make predictions (and the
/// pruning that merges equal-prediction leaves) differ from run to run. With positives weighing
/// 1 + 2⁻¹², class totals below 4096 rows can never tie (and stay exact in f32), so ties go to
/// the positive class deterministically; split choices change by at most that relative amount.
/// [`crate::ml::tree`] reproduces linfa's fit and sends an exact tie (possible only above 4096
/// rows) to the positive class too.
const POSITIVE_WEIGHT: f32 = 1.0 + 1.0 / 4096.0;

/// Every training row's dense rank in each column, in `f64::total_cmp`'s order: two values get
/// the same rank exactly when their bits are equal, so comparing ranks compares the values as
/// `total_cmp` does. Computed once per fit, they let [`fit_drawn`] order the rows of every tree by
/// small integers.
struct Ranks {
    /// Row-major: row `i`'s rank in column `j` at `i·width + j`.
    ranks: Vec<u32>,
    width: usize,
    /// Bits that hold the largest rank.
    bits: u32,
}

impl Ranks {
    fn new(rows: &[&[f64]], width: usize) -> Ranks {
        let n = rows.len();
        let mut ranks = vec![0_u32; n * width];
        let mut order: Vec<usize> = (0..n).collect();
        let mut top = 0_u32;
        for j in 0..width {
            order.sort_unstable_by(|&a, &b| rows[a][j].total_cmp(&rows[b][j]));
            let mut rank = 0_u32;
            for t in 0..order.len() {
                let i = order[t];
                if t > 0 && rows[order[t - 1]][j].to_bits() != rows[i][j].to_bits() {
                    rank += 1;
                }
                ranks[i * width + j] = rank;
            }
            top = top.max(rank);
        }
        Ranks {
            ranks,
            width,
            bits: u32::BITS - top.leading_zeros(),
        }
    }

    fn rank(&self, i: usize, j: usize) -> u32 {
        self.ranks[i * self.width + j]
    }
}

/// Checks that every row has the first row's width and returns it.
fn row_width(rows: &[&[f64]]) -> Result<usize, tree::TreeError> {
    let width = rows.first().map_or(0, |r| r.len());
    match rows.iter().find(|r| r.len() != width) {
        Some(r) => Err(tree::TreeError::Shape(format!(
            "rows of {width} and {} values",
            r.len()
        ))),
        None => Ok(width),
    }
}

/// Fits a decision tree with [`POSITIVE_WEIGHT`] by [`tree::fit`] (the tree linfa-trees would
/// fit, bit for bit) on rows drawn from `rows` (`drawn`: a row index and how many times it was
/// drawn, each index once, in any order), restricted to `columns` (in that order; repeats allowed).
///
/// Identical drawn rows (same values in those columns, same class) are merged into one row
/// carrying their summed weight, in the order of the rows' sort key (their values compared with
/// `total_cmp` column by column, then the class): the trees saved by earlier versions were fitted
/// by linfa-trees on exactly these merged rows, and keeping them keeps every `f32` class-weight
/// sum, hence every tree, unchanged. (A merged row can never be split apart.) Rows with equal keys
/// have equal bits, so which of them stands for the group does not matter, and every weight in a
/// group is the same, so the order they are added in does not either.
fn fit_drawn(
    params: &TreeParams,
    rows: &[&[f64]],
    labels: &[bool],
    ranks: &Ranks,
    drawn: &[(usize, u32)],
    columns: &[usize],
) -> Result<Tree, tree::TreeError> {
    let k = columns.len();
    // The sort key as one integer when it fits 128 bits: each column's rank in a fixed-width
    // field, then the class; integer order is then the key's lexicographic order.
    let packed = k as u32 * ranks.bits < 128;
    let mut keyed: Vec<(u128, usize, u32)> = drawn
        .iter()
        .map(|&(i, count)| {
            let key = if packed {
                let mut key = 0_u128;
                for &j in columns {
                    key = (key << ranks.bits) | u128::from(ranks.rank(i, j));
                }
                (key << 1) | u128::from(labels[i])
            } else {
                0
            };
            (key, i, count)
        })
        .collect();
    let long_key = |i: usize| columns.iter().map(move |&j| ranks.rank(i, j));
    if packed {
        keyed.sort_unstable_by_key(|e| e.0);
    } else {
        keyed.sort_unstable_by(|a, b| {
            long_key(a.1)
                .cmp(long_key(b.1))
                .then(labels[a.1].cmp(&labels[b.1]))
        });
    }
    let same = |a: &(u128, usize, u32), b: &(u128, usize, u32)| {
        if packed {
            a.0 == b.0
        } else {
            labels[a.1] == labels[b.1] && long_key(a.1).eq(long_key(b.1))
        }
    };
    let mut keep: Vec<usize> = Vec::with_capacity(keyed.len());
    let mut weight: Vec<f32> = Vec::with_capacity(keyed.len());
    for (t, e) in keyed.iter().enumerate() {
        let w = if labels[e.1] { POSITIVE_WEIGHT } else { 1.0 };
        let mut adds = e.2;
        if t == 0 || !same(&keyed[t - 1], e) {
            keep.push(e.1);
            weight.push(w);
            adds -= 1;
        }
        if let Some(last) = weight.last_mut() {
            for _ in 0..adds {
                *last += w;
            }
        }
    }
    // Column-major: merged row `r`'s value of column `columns[p]` at `p·m + r`.
    let m = keep.len();
    let mut values = vec![0.0; k * m];
    for (p, &j) in columns.iter().enumerate() {
        for (r, &i) in keep.iter().enumerate() {
            values[p * m + r] = rows[i][j];
        }
    }
    let merged_labels: Vec<bool> = keep.iter().map(|&i| labels[i]).collect();
    tree::fit(&values, m, &merged_labels, &weight, params)
}

/// [`fit_drawn`] on every row once, all columns.
fn fit_merged(
    params: &TreeParams,
    rows: &[&[f64]],
    labels: &[bool],
) -> Result<Tree, tree::TreeError> {
    let width = row_width(rows)?;
    let rows = &rows[..rows.len().min(labels.len())];
    let ranks = Ranks::new(rows, width);
    let drawn: Vec<(usize, u32)> = (0..rows.len()).map(|i| (i, 1)).collect();
    let columns: Vec<usize> = (0..width).collect();
    fit_drawn(params, rows, labels, &ranks, &drawn, &columns)
}

fn tree_params(max_depth: usize) -> TreeParams {
    TreeParams::linfa_defaults((max_depth > 0).then_some(max_depth))
}

/// A fitted tree's probability at each node a row can stop at: the positive share of the
/// training rows routed there (the overall positive share for a node no training row reaches).
fn leaf_probability(
    tree: &Tree,
    train: &[&[f64]],
    labels: &[bool],
) -> impl Fn(usize) -> f64 + use<> {
    let mut counts = vec![(0.0f64, 0.0f64); tree.nodes().len()];
    for (r, &y) in train.iter().zip(labels) {
        let e = &mut counts[tree.leaf(&|j| r[j])];
        e.0 += f64::from(u8::from(y));
        e.1 += 1.0;
    }
    let share = labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64;
    move |id| {
        let (p, t) = counts[id];
        if t > 0.0 { p / t } else { share }
    }
}

/// A forest tree's vote at the node a row stops at: 1 at a leaf predicting positive, else 0.
///
/// linfa-trees 0.8.1 partitions the training rows with `<=` but its own `predict` sends a row
/// left only when `x[f] < split`. Splits sit at midpoints between training values, so the two
/// rules disagree only for a row exactly on a midpoint, which a held-out row can be (ages 32
/// and 34 in training put the split at 33, where a held-out 33 sits). [`Tree::leaf`] follows the
/// training rule, the one the tree's leaf statistics were computed with, and the one
/// scikit-learn uses.
fn vote(tree: &Tree, id: usize) -> f64 {
    let n = &tree.nodes()[id];
    f64::from(u8::from(n.leaf && n.prediction))
}

/// Fits one model and returns positive-class probabilities for `test`. A training set with a
/// single class predicts that class with probability 1 (no model can be fitted).
pub fn fit_predict(
    kind: ClassifierKind,
    params: &ClassifierParams,
    train: &[&[f64]],
    labels: &[bool],
    test: &[&[f64]],
    seed: u64,
) -> Result<Vec<f64>, ClassifierError> {
    // Nothing to predict (a fold whose test part is empty, as with as many folds as groups):
    // an empty matrix has no width to check against the model's.
    if test.is_empty() {
        return Ok(Vec::new());
    }
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        return Ok(vec![if positives == 0 { 0.0 } else { 1.0 }; test.len()]);
    }
    match kind {
        ClassifierKind::Logistic => {
            let (scale, model) = fit_logistic(params, train, labels)?;
            Ok(standardized(test, &scale)
                .iter()
                .map(|r| model.probability(r))
                .collect())
        }
        ClassifierKind::DecisionTree => {
            let tree = fit_tree(params, train, labels)?;
            let probability = leaf_probability(&tree, train, labels);
            Ok(test
                .iter()
                .map(|r| probability(tree.leaf(&|j| r[j])))
                .collect())
        }
        ClassifierKind::RandomForest => {
            let forest = fit_forest(params, train, labels, seed)?;
            // Probability: share of trees voting positive (each tree sees its own columns).
            Ok(test
                .iter()
                .map(|r| {
                    let votes: f64 = forest
                        .models
                        .iter()
                        .zip(&forest.model_features)
                        .map(|(t, cols)| vote(t, t.leaf(&|j| r[cols[j]])))
                        .sum();
                    votes / forest.models.len() as f64
                })
                .collect())
        }
    }
}

fn fit_error(kind: ClassifierKind) -> impl Fn(&dyn std::fmt::Display) -> ClassifierError {
    move |e| ClassifierError::Fit {
        model: kind.name(),
        message: e.to_string(),
    }
}

/// Column means and standard deviations (1 where a column is constant) of the training rows.
fn logistic_scale(train: &[&[f64]]) -> Vec<(f64, f64)> {
    let width = train[0].len();
    (0..width)
        .map(|j| {
            let col: Vec<f64> = train.iter().map(|r| r[j]).collect();
            let sd = stats::sd(&col);
            (
                stats::mean(&col),
                if sd > 0.0 && sd.is_finite() { sd } else { 1.0 },
            )
        })
        .collect()
}

fn standardized(rows: &[&[f64]], scale: &[(f64, f64)]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|r| r.iter().zip(scale).map(|(x, (c, s))| (x - c) / s).collect())
        .collect()
}

/// The logistic regression ([`crate::ml::logistic`]) on features standardised with the training
/// rows' statistics, and those statistics.
fn fit_logistic(
    params: &ClassifierParams,
    train: &[&[f64]],
    labels: &[bool],
) -> Result<(Vec<(f64, f64)>, Logistic), ClassifierError> {
    let scale = logistic_scale(train);
    let rows = standardized(train, &scale);
    let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
    let model = logistic::fit(
        &refs,
        labels,
        params.logistic_alpha,
        params.logistic_max_iterations,
    )
    .map_err(|e| fit_error(ClassifierKind::Logistic)(&e))?;
    Ok((scale, model))
}

fn fit_tree(
    params: &ClassifierParams,
    train: &[&[f64]],
    labels: &[bool],
) -> Result<Tree, ClassifierError> {
    fit_merged(&tree_params(params.tree_max_depth), train, labels)
        .map_err(|e| fit_error(ClassifierKind::DecisionTree)(&e))
}

/// A fitted forest: the trees and, per tree, the encoded columns it was fitted on (in drawn
/// order, repeats possible), the fields of linfa-ensemble's `EnsembleLearner`.
#[derive(Debug, Clone, PartialEq)]
struct Forest {
    models: Vec<Tree>,
    model_features: Vec<Vec<usize>>,
}

/// Bags trees ([`fit_merged`]) exactly as linfa-ensemble 0.8's `EnsembleLearner` does with these
/// parameters and a fixed random stream: its parameter checks (and messages); then per tree
/// `ceil(n · bootstrap_proportion)` row draws, then `ceil(width · feature_proportion)` column
/// draws, both uniform with replacement from the same stream, in that order; the tree fitted on
/// those rows restricted to those columns. Done here on row slices rather than through linfa's
/// `select` of whole arrays, which cost more than the trees themselves on small tables (tested
/// against linfa-ensemble below). Where linfa-ensemble would panic (a tree that cannot be
/// fitted, no rows) this returns the error.
fn fit_forest(
    params: &ClassifierParams,
    train: &[&[f64]],
    labels: &[bool],
    seed: u64,
) -> Result<Forest, ClassifierError> {
    use rand::Rng;
    let fail = fit_error(ClassifierKind::RandomForest);
    let (size, boot, share) = (
        params.forest_trees,
        params.forest_bootstrap_proportion,
        params.forest_feature_proportion,
    );
    if boot > 1.0 || boot <= 0.0 {
        return Err(fail(&format!(
            "invalid parameter Bootstrap proportion should be greater than zero and less than or equal to one, but was {boot}"
        )));
    }
    if size < 1 {
        return Err(fail(&format!(
            "invalid parameter Ensemble size should be less than one, but was {size}"
        )));
    }
    if share > 1.0 || share <= 0.0 {
        return Err(fail(&format!(
            "invalid parameter Feature proportion should be greater than zero and less than or equal to one, but was {share}"
        )));
    }
    let n = train.len().min(labels.len());
    if n == 0 {
        return Err(fail(&"no training rows"));
    }
    let width = row_width(train).map_err(|e| fail(&e))?;
    let draws = ((n as f64) * boot).ceil() as usize;
    let n_sub = ((width as f64) * share).ceil() as usize;
    let tree_params = tree_params(params.forest_max_depth);
    let mut rng = rng::stream(seed, "classification/forest");
    let mut forest = Forest {
        models: Vec::with_capacity(size),
        model_features: Vec::with_capacity(size),
    };
    let train = &train[..n];
    let ranks = Ranks::new(train, width);
    // How often each row was drawn for the current tree, and the rows drawn.
    let mut counts = vec![0_u32; n];
    let mut drawn: Vec<usize> = Vec::with_capacity(draws);
    let mut drawn_counts: Vec<(usize, u32)> = Vec::with_capacity(draws);
    for _ in 0..size {
        for _ in 0..draws {
            let i = rng.gen_range(0..n);
            if counts[i] == 0 {
                drawn.push(i);
            }
            counts[i] += 1;
        }
        let columns: Vec<usize> = (0..n_sub).map(|_| rng.gen_range(0..width)).collect();
        drawn_counts.clear();
        drawn_counts.extend(drawn.iter().map(|&i| (i, counts[i])));
        for &i in &drawn {
            counts[i] = 0;
        }
        drawn.clear();
        let tree = fit_drawn(&tree_params, train, labels, &ranks, &drawn_counts, &columns)
            .map_err(|e| fail(&e))?;
        forest.models.push(tree);
        forest.model_features.push(columns);
    }
    Ok(forest)
}

/// One node of a [`SavedTree`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedNode {
    /// Rows whose `feature` is at most `threshold` go to node `left`, the others to `right`
    /// (the rule linfa-trees trains with; model files of format version 1 used `<`).
    Split {
        /// Index into the model's encoded input columns.
        feature: usize,
        /// The split value.
        threshold: f64,
        /// Node index of the left child.
        left: usize,
        /// Node index of the right child.
        right: usize,
    },
    /// Where a row ends: the value it scores (a probability, or a 0/1 vote).
    Leaf(f64),
}

/// A binary decision tree as a flat list of nodes, the root first: a fitted [`Tree`] (the tree
/// linfa-trees fits) in a plain form that stays readable and independent of any library (this
/// is the format earlier versions wrote from linfa-trees' own nodes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTree {
    /// The nodes; node 0 is the root.
    pub nodes: Vec<SavedNode>,
}

impl SavedTree {
    /// Flattens a fitted tree. A row stops where [`Tree::leaf`] stops (a leaf, or a split
    /// without the child it would go to); `value` gives the score of such a node (by index).
    fn from_tree(tree: &Tree, value: &dyn Fn(usize) -> f64) -> Self {
        fn walk(
            tree: &Tree,
            id: usize,
            value: &dyn Fn(usize) -> f64,
            nodes: &mut Vec<SavedNode>,
        ) -> usize {
            let at = nodes.len();
            let node = &tree.nodes()[id];
            if node.leaf {
                nodes.push(SavedNode::Leaf(value(id)));
                return at;
            }
            nodes.push(SavedNode::Leaf(f64::NAN)); // placeholder, replaced below
            let child = |c: Option<usize>, nodes: &mut Vec<SavedNode>| match c {
                Some(c) => walk(tree, c, value, nodes),
                None => {
                    nodes.push(SavedNode::Leaf(value(id)));
                    nodes.len() - 1
                }
            };
            let left = child(node.left, nodes);
            let right = child(node.right, nodes);
            nodes[at] = SavedNode::Split {
                feature: node.feature,
                threshold: node.split,
                left,
                right,
            };
            at
        }
        let mut nodes = Vec::new();
        walk(tree, 0, value, &mut nodes);
        SavedTree { nodes }
    }

    /// The value of the node a row ends in; `x(j)` is the row's encoded column `j`.
    pub fn score(&self, x: &dyn Fn(usize) -> f64) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes[i] {
                SavedNode::Leaf(v) => return v,
                SavedNode::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => i = if x(feature) <= threshold { left } else { right },
            }
        }
    }

    /// Checks that child indices point forward inside the list (so scoring terminates).
    fn check(&self) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a tree has no nodes".into());
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if let SavedNode::Split { left, right, .. } = n
                && (*left <= i
                    || *right <= i
                    || *left >= self.nodes.len()
                    || *right >= self.nodes.len())
            {
                return Err(format!("tree node {i} points to a child outside the tree"));
            }
        }
        Ok(())
    }
}

/// A fitted classifier in plain, serialisable form. Its probabilities equal those
/// [`fit_predict`] gives with the same kind, parameters, training rows and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SavedClassifier {
    /// The training rows had one class: every row scores this probability.
    Constant {
        /// The probability.
        probability: f64,
    },
    /// Logistic regression: `p = 1 / (1 + exp(−(Σ w_j·(x_j − mean_j)/sd_j + b)))`.
    Logistic {
        /// Training mean of each input column.
        means: Vec<f64>,
        /// Training standard deviation of each input column (1 for constant columns).
        sds: Vec<f64>,
        /// Coefficients on the standardised columns.
        coefficients: Vec<f64>,
        /// Intercept.
        intercept: f64,
        /// Whether `p` is 1 − the above: models saved by earlier versions, fitted with
        /// linfa-logistic, set it when linfa's positive class was `false`; [`fit`] writes `false`.
        flip: bool,
    },
    /// One tree; leaves hold the positive share of the training rows that reach them (the
    /// overall positive share for a leaf no training row reaches).
    DecisionTree {
        /// The tree.
        tree: SavedTree,
    },
    /// Bagged trees; leaves hold 1 (votes positive) or 0; the probability is the share of
    /// positive votes. Tree `t` reads encoded column `features[t][j]` as its column `j`.
    RandomForest {
        /// The trees.
        trees: Vec<SavedTree>,
        /// The encoded columns each tree sees (linfa-ensemble's random subspace).
        features: Vec<Vec<usize>>,
    },
}

impl SavedClassifier {
    /// Positive-class probability of one encoded row.
    pub fn probability(&self, x: &[f64]) -> f64 {
        match self {
            SavedClassifier::Constant { probability } => *probability,
            SavedClassifier::Logistic {
                means,
                sds,
                coefficients,
                intercept,
                flip,
            } => {
                let z: f64 = x
                    .iter()
                    .zip(means.iter().zip(sds))
                    .zip(coefficients)
                    .map(|((v, (m, s)), w)| (v - m) / s * w)
                    .sum::<f64>()
                    + intercept;
                let p = 1.0 / (1.0 + (-z).exp());
                if *flip { 1.0 - p } else { p }
            }
            SavedClassifier::DecisionTree { tree } => tree.score(&|j| x[j]),
            SavedClassifier::RandomForest { trees, features } => {
                let votes: f64 = trees
                    .iter()
                    .zip(features)
                    .map(|(t, cols)| t.score(&|j| x[cols[j]]))
                    .sum();
                votes / trees.len() as f64
            }
        }
    }

    /// Checks the shape against the number of encoded input columns.
    pub fn check(&self, width: usize) -> Result<(), String> {
        let tree_ok = |t: &SavedTree, w: usize| -> Result<(), String> {
            t.check()?;
            for n in &t.nodes {
                if let SavedNode::Split { feature, .. } = n
                    && *feature >= w
                {
                    return Err(format!("a tree splits on column {feature} of {w}"));
                }
            }
            Ok(())
        };
        match self {
            SavedClassifier::Constant { .. } => Ok(()),
            SavedClassifier::Logistic {
                means,
                sds,
                coefficients,
                ..
            } => {
                if means.len() != width || sds.len() != width || coefficients.len() != width {
                    return Err(format!(
                        "the logistic model has {}/{}/{} means/sds/coefficients for {width} input columns",
                        means.len(),
                        sds.len(),
                        coefficients.len()
                    ));
                }
                Ok(())
            }
            SavedClassifier::DecisionTree { tree } => tree_ok(tree, width),
            SavedClassifier::RandomForest { trees, features } => {
                if trees.is_empty() || trees.len() != features.len() {
                    return Err(format!(
                        "the forest has {} trees and {} feature lists",
                        trees.len(),
                        features.len()
                    ));
                }
                for (t, cols) in trees.iter().zip(features) {
                    if let Some(c) = cols.iter().find(|&&c| c >= width) {
                        return Err(format!("a tree reads column {c} of {width}"));
                    }
                    tree_ok(t, cols.len())?;
                }
                Ok(())
            }
        }
    }
}

/// Fits `kind` on the given rows exactly as [`fit_predict`] does and writes it out in plain form.
pub fn fit(
    kind: ClassifierKind,
    params: &ClassifierParams,
    train: &[&[f64]],
    labels: &[bool],
    seed: u64,
) -> Result<SavedClassifier, ClassifierError> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        return Ok(SavedClassifier::Constant {
            probability: if positives == 0 { 0.0 } else { 1.0 },
        });
    }
    Ok(match kind {
        ClassifierKind::Logistic => {
            let (scale, model) = fit_logistic(params, train, labels)?;
            SavedClassifier::Logistic {
                means: scale.iter().map(|s| s.0).collect(),
                sds: scale.iter().map(|s| s.1).collect(),
                coefficients: model.weights,
                intercept: model.intercept,
                flip: false,
            }
        }
        ClassifierKind::DecisionTree => {
            let tree = fit_tree(params, train, labels)?;
            let value = leaf_probability(&tree, train, labels);
            SavedClassifier::DecisionTree {
                tree: SavedTree::from_tree(&tree, &value),
            }
        }
        ClassifierKind::RandomForest => {
            let forest = fit_forest(params, train, labels, seed)?;
            SavedClassifier::RandomForest {
                trees: forest
                    .models
                    .iter()
                    .map(|t| SavedTree::from_tree(t, &|id| vote(t, id)))
                    .collect(),
                features: forest.model_features.clone(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use linfa::DatasetBase;
    use linfa::prelude::*;
    use linfa_ensemble::EnsembleLearnerParams;
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};

    fn to_array(rows: &[&[f64]]) -> Array2<f64> {
        let width = rows.first().map_or(0, |r| r.len());
        Array2::from_shape_vec(
            (rows.len(), width),
            rows.iter().flat_map(|r| r.iter().copied()).collect(),
        )
        .expect("rows have equal width")
    }

    /// [`fit_merged`] behind linfa's `Fit`, so that linfa-ensemble itself can bag it: the reference
    /// [`fit_forest`] is tested against.
    #[derive(Debug, Clone, Copy)]
    struct TieBreakingTree(TreeParams);

    impl Fit<Array2<f64>, Array1<bool>, linfa::Error> for TieBreakingTree {
        type Object = Tree;

        fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<bool>>) -> Result<Tree, linfa::Error> {
            let x = data.records.as_standard_layout();
            let width = x.ncols();
            let flat = x.as_slice().unwrap_or(&[]);
            let rows: Vec<&[f64]> = if width == 0 {
                vec![&[]; x.nrows()]
            } else {
                flat.chunks_exact(width).collect()
            };
            let labels = data
                .targets
                .as_slice()
                .map_or_else(|| data.targets.iter().copied().collect(), <[bool]>::to_vec);
            reference_fit_merged(&self.0, &rows, &labels)
                .map_err(|e| linfa::Error::Parameters(e.to_string()))
        }
    }

    /// The merge as it was written before [`fit_drawn`] (the reference it is tested against):
    /// fits a decision tree with [`POSITIVE_WEIGHT`] by [`tree::fit`] (the tree linfa-trees would
    /// fit, bit for bit) after merging identical rows (same features, same class) into one row
    /// carrying their summed weight, in the order of the rows' sort key: the trees saved by earlier
    /// versions were fitted by linfa-trees on exactly these merged rows, and keeping them keeps every
    /// `f32` class-weight sum, hence every tree, unchanged. (A merged row can never be split apart.)
    fn reference_fit_merged(
        params: &TreeParams,
        rows: &[&[f64]],
        labels: &[bool],
    ) -> Result<Tree, tree::TreeError> {
        let width = rows.first().map_or(0, |r| r.len());
        if let Some(r) = rows.iter().find(|r| r.len() != width) {
            return Err(tree::TreeError::Shape(format!(
                "rows of {width} and {} values",
                r.len()
            )));
        }
        // Each row's sort key: its values mapped to integers in `f64::total_cmp`'s order (the
        // mapping `total_cmp` itself uses: flip the magnitude bits of negative numbers), then its
        // label. Keys compare lexicographically, so the order is that of comparing the rows value by
        // value with `total_cmp`, then the labels; it is total, so the stable sort's result is unique.
        let stride = width + 1;
        let mut keys: Vec<i64> = Vec::with_capacity(rows.len() * stride);
        for (r, &y) in rows.iter().zip(labels) {
            keys.extend(r.iter().map(|v| {
                let b = v.to_bits() as i64;
                b ^ ((((b >> 63) as u64) >> 1) as i64)
            }));
            keys.push(i64::from(y));
        }
        let key = |i: usize| &keys[i * stride..(i + 1) * stride];
        let mut order: Vec<usize> = (0..rows.len().min(labels.len())).collect();
        order.sort_by(|&a, &b| key(a).cmp(key(b)));
        let mut keep: Vec<usize> = Vec::new();
        let mut weight: Vec<f32> = Vec::new();
        for &i in &order {
            let w = if labels[i] { POSITIVE_WEIGHT } else { 1.0 };
            match (keep.last(), weight.last_mut()) {
                (Some(&j), Some(last)) if key(j) == key(i) => *last += w,
                _ => {
                    keep.push(i);
                    weight.push(w);
                }
            }
        }
        // Column-major: merged row `k`'s value of column `j` at `j·m + k`.
        let m = keep.len();
        let mut columns = vec![0.0; width * m];
        for (k, &i) in keep.iter().enumerate() {
            for (j, &v) in rows[i].iter().enumerate() {
                columns[j * m + k] = v;
            }
        }
        let merged_labels: Vec<bool> = keep.iter().map(|&i| labels[i]).collect();
        tree::fit(&columns, keep.len(), &merged_labels, &weight, params)
    }

    /// linfa-ensemble's own fit of the forest `fit_forest` reproduces.
    fn linfa_forest(
        params: &ClassifierParams,
        train: &[&[f64]],
        labels: &[bool],
        seed: u64,
    ) -> Result<Forest, String> {
        let data = DatasetBase::new(to_array(train), Array1::from(labels.to_vec()));
        EnsembleLearnerParams::new_fixed_rng(
            TieBreakingTree(tree_params(params.forest_max_depth)),
            rng::stream(seed, "classification/forest"),
        )
        .ensemble_size(params.forest_trees)
        .bootstrap_proportion(params.forest_bootstrap_proportion)
        .feature_proportion(params.forest_feature_proportion)
        .fit(&data)
        .map(|f| Forest {
            models: f.models,
            model_features: f.model_features,
        })
        .map_err(|e| e.to_string())
    }

    /// The rank-keyed merge fits the same tree as the merge it replaced (slices of `total_cmp`
    /// keys, stable sort) on tables with repeated rows, ties, signed zeros, infinities and wide rows
    /// whose key does not fit 128 bits.
    #[test]
    fn rank_keyed_merge_is_the_reference() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(20);
        for case in 0..200 {
            let width = if case % 10 == 0 { 20 } else { case % 6 };
            let n = 1 + r.gen_range(0..(if case % 7 == 0 { 6 } else { 300 }));
            let distinct = 1 + r.gen_range(0..n);
            let base: Vec<Vec<f64>> = (0..distinct)
                .map(|_| {
                    (0..width)
                        .map(|_| match r.gen_range(0..10) {
                            0 => 0.0,
                            1 => -0.0,
                            2 => f64::INFINITY,
                            3..=5 => f64::from(r.gen_range(0..3_u8)),
                            _ => r.gen_range(-1e3..1e3),
                        })
                        .collect()
                })
                .collect();
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|_| base[r.gen_range(0..distinct)].clone())
                .collect();
            let labels: Vec<bool> = (0..n).map(|_| r.gen_bool(0.4)).collect();
            let train: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
            let params = tree_params([0, 2, 4][case % 3]);
            assert_eq!(
                fit_merged(&params, &train, &labels),
                reference_fit_merged(&params, &train, &labels),
                "case {case}"
            );
        }
    }

    /// The own bagging gives linfa-ensemble's forest, tree for tree (nodes, thresholds, the
    /// columns each tree saw), on seeded tables with repeated rows, coarse values (ties),
    /// constant columns and every parameter shape; and linfa-ensemble's parameter errors.
    #[test]
    fn forest_bagging_is_linfa_ensembles() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(19);
        let mut compared = 0;
        for case in 0..160 {
            let width = 1 + case % 6;
            let n = 2 + r.gen_range(0..(if case % 5 == 0 { 12 } else { 260 }));
            let distinct = 1 + r.gen_range(0..n);
            let coarse = case % 3 == 0;
            let base: Vec<Vec<f64>> = (0..distinct)
                .map(|_| {
                    (0..width)
                        .map(|j| {
                            if j == 2 && case % 4 == 0 {
                                7.0 // a constant column
                            } else if coarse {
                                f64::from(r.gen_range(0..4_u8))
                            } else {
                                r.gen_range(-50.0..50.0)
                            }
                        })
                        .collect()
                })
                .collect();
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    base[if i < distinct {
                        i
                    } else {
                        r.gen_range(0..distinct)
                    }]
                    .clone()
                })
                .collect();
            let labels: Vec<bool> = rows
                .iter()
                .map(|row| {
                    row[0]
                        + if coarse {
                            0.0
                        } else {
                            r.gen_range(-20.0..20.0)
                        }
                        > 1.0
                })
                .collect();
            let train: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
            let params = ClassifierParams {
                forest_trees: 1 + case % 12,
                forest_max_depth: [0, 1, 3, 4, 6][case % 5],
                forest_bootstrap_proportion: [0.5, 1.0, 0.3, 0.77][case % 4],
                forest_feature_proportion: [0.7, 1.0, 0.2, 0.5][(case / 4) % 4],
                ..ClassifierParams::default()
            };
            let seed = r.r#gen::<u64>();
            let ours = fit_forest(&params, &train, &labels, seed).expect("fits");
            let theirs = linfa_forest(&params, &train, &labels, seed).expect("fits");
            assert_eq!(ours, theirs, "case {case}");
            compared += ours.models.len();
        }
        assert!(compared > 800, "{compared} trees compared");
        // linfa-ensemble's parameter checks, in its order and with its messages.
        let rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let train: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let labels = [true, false, true];
        for (trees, boot, share) in [
            (10, 0.0, 0.7),
            (10, 1.5, 0.7),
            (0, 0.5, 0.7),
            (0, 2.0, 0.0),
            (10, 0.5, 0.0),
            (10, 0.5, 1.01),
        ] {
            let params = ClassifierParams {
                forest_trees: trees,
                forest_bootstrap_proportion: boot,
                forest_feature_proportion: share,
                ..ClassifierParams::default()
            };
            let ours = fit_forest(&params, &train, &labels, 1).unwrap_err();
            let theirs = linfa_forest(&params, &train, &labels, 1).unwrap_err();
            assert_eq!(
                ours,
                ClassifierError::Fit {
                    model: ClassifierKind::RandomForest.name(),
                    message: theirs
                }
            );
        }
        // Where linfa-ensemble panics (no rows), an error.
        assert!(fit_forest(&ClassifierParams::default(), &[], &[], 1).is_err());
    }

    /// Reference values: tests/reference/ml_classifiers.py (scikit-learn) on the rows it stores.
    fn reference() -> crate::test_fixtures::Reference {
        crate::test_fixtures::Reference::load("ml_classifiers")
    }

    #[test]
    fn logistic_probabilities_match_sklearn() {
        // sklearn LogisticRegression(C=1.0, tol=1e-10, max_iter=10000) fitted on the
        // standardised (ddof=1) 12 training rows; predict_proba[:, 1] of the 4 test rows.
        let r = reference();
        let train = r.f64ss("/logistic/train");
        let y = r.bools("/logistic/labels");
        let test = r.f64ss("/logistic/test");
        let want = r.f64s("/logistic/probability");
        let params = ClassifierParams {
            logistic_max_iterations: 1000,
            ..Default::default()
        };
        let tr: Vec<&[f64]> = train.iter().map(Vec::as_slice).collect();
        let te: Vec<&[f64]> = test.iter().map(Vec::as_slice).collect();
        let got = fit_predict(ClassifierKind::Logistic, &params, &tr, &y, &te, 0).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
        }
        // The labels flipped give the complementary probabilities (orientation check).
        let flipped: Vec<bool> = y.iter().map(|v| !v).collect();
        let got2 = fit_predict(ClassifierKind::Logistic, &params, &tr, &flipped, &te, 0).unwrap();
        for (a, b) in got.iter().zip(&got2) {
            assert!((a + b - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn tree_probabilities_are_leaf_shares() {
        // Depth-1 tree on one feature. Weighted Gini of each cut, by hand: after 1: 0.267,
        // after 2: 0.417, after 3: 0.222, after 4: 0.333, after 5: 0.400, so the cut is at 3.5;
        // the left leaf holds 1 positive of 3 rows, the right 3 of 3 (scikit-learn's
        // DecisionTreeClassifier(max_depth=1) agrees: threshold and predict_proba in the reference).
        let r = reference();
        assert_eq!(r.f64("/tree/threshold"), 3.5);
        let train = r.f64ss("/tree/train");
        let y = r.bools("/tree/labels");
        let params = ClassifierParams {
            tree_max_depth: 1,
            ..Default::default()
        };
        let tr: Vec<&[f64]> = train.iter().map(Vec::as_slice).collect();
        let te = r.f64ss("/tree/test");
        let te: Vec<&[f64]> = te.iter().map(Vec::as_slice).collect();
        let got = fit_predict(ClassifierKind::DecisionTree, &params, &tr, &y, &te, 0).unwrap();
        assert_eq!(got, r.f64s("/tree/probability"));
    }
}
