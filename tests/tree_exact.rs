//! `ml::tree` against the crate it replaces: on many random weighted tables (ties, values within
//! 1e-5 of each other, duplicate rows, constant columns, tiny and single-class sets, several
//! depths and stopping rules), the tree it fits must be linfa-trees 0.8's own
//! `DecisionTreeValidParams::fit`, node for node and bit for bit (feature, split value,
//! impurity decrease, leaf flag, prediction, depth, children), and both must send every row to
//! the same prediction, by the training rule (`<=`) and by linfa's own `predict` (`<`).

use linfa::Dataset;
use linfa::prelude::*;
use linfa_trees::{DecisionTree, TreeNode};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use customer_intel::ml::tree::{self, Node, Tree, TreeParams};

/// The classifiers' positive-row weight (`classifiers::POSITIVE_WEIGHT`): with it, class weights
/// below 4096 rows never tie, so linfa's modal class (random on a tie) is deterministic.
const POSITIVE_WEIGHT: f32 = 1.0 + 1.0 / 4096.0;

/// Walks linfa's tree and ours together, failing on the first difference.
fn same_tree(linfa: &TreeNode<f64, bool>, ours: &Tree, id: usize, case: &str) {
    let n: &Node = &ours.nodes()[id];
    let (feature, split, decrease) = linfa.split();
    let at = format!("{case}, node {id} at depth {}", n.depth);
    assert_eq!(feature, n.feature, "feature: {at}");
    assert_eq!(
        split.to_bits(),
        n.split.to_bits(),
        "split {split} vs {}: {at}",
        n.split
    );
    assert_eq!(
        decrease.to_bits(),
        n.impurity_decrease.to_bits(),
        "impurity decrease {decrease} vs {}: {at}",
        n.impurity_decrease
    );
    assert_eq!(linfa.is_leaf(), n.leaf, "leaf flag: {at}");
    assert_eq!(linfa.depth(), n.depth, "depth: {at}");
    if n.leaf {
        assert_eq!(linfa.prediction(), Some(n.prediction), "prediction: {at}");
    }
    let children = linfa.children();
    for (theirs, mine) in children.into_iter().zip([n.left, n.right]) {
        match (theirs, mine) {
            (Some(t), Some(m)) => {
                assert!(m > id, "children come after their parent: {at}");
                same_tree(t, ours, m, case);
            }
            (None, None) => {}
            (t, m) => panic!("child present {} vs {}: {at}", t.is_some(), m.is_some()),
        }
    }
}

/// Counts the nodes reachable from linfa's root (ours keeps only reachable nodes).
fn count(node: &TreeNode<f64, bool>) -> usize {
    1 + node
        .children()
        .into_iter()
        .flatten()
        .map(|c| count(c))
        .sum::<usize>()
}

/// The prediction of our tree for a row, going left when `x < split` (`strict`, linfa's
/// `predict`) or `x <= split` (the training rule, [`Tree::leaf`]).
fn our_prediction(t: &Tree, x: &[f64], strict: bool) -> bool {
    if !strict {
        return t.nodes()[t.leaf(&|j| x[j])].prediction;
    }
    let mut i = 0;
    loop {
        let n = &t.nodes()[i];
        if n.leaf {
            return n.prediction;
        }
        let left = x[n.feature] < n.split;
        i = if left { n.left } else { n.right }.expect("a split has both children");
    }
}

/// linfa's tree walked with the training rule.
fn linfa_training_rule(node: &TreeNode<f64, bool>, x: &[f64]) -> bool {
    let mut node = node;
    while !node.is_leaf() {
        let (f, split, _) = node.split();
        let c = node.children();
        node = if x[f] <= split { c[0] } else { c[1] }
            .as_deref()
            .expect("a split has both children");
    }
    node.prediction().expect("a leaf predicts")
}

/// One random table: rows, labels, weights.
struct Case {
    rows: Vec<Vec<f64>>,
    labels: Vec<bool>,
    weights: Vec<f32>,
}

fn random_case(rng: &mut ChaCha8Rng) -> Case {
    let n = [1, 2, 3, 4, 5, 8, 13, 30, 60, 150, 400, 700][rng.gen_range(0..12)];
    let width = [0, 1, 1, 2, 3, 4, 5, 7][rng.gen_range(0..8)];
    // Per column: a few distinct values (many ties), a constant, a continuous draw, or values
    // clustered within 1e-5 of each other (linfa's "equal" test).
    let kinds: Vec<u8> = (0..width).map(|_| rng.gen_range(0..5)).collect();
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 && rng.gen_bool(0.25) {
            // A duplicate of an earlier row.
            let j = rng.gen_range(0..i);
            rows.push(rows[j].clone());
            continue;
        }
        rows.push(
            kinds
                .iter()
                .map(|k| match k {
                    0 => f64::from(rng.gen_range(0..4)),
                    1 => 7.5,
                    2 => rng.gen_range(-50.0..50.0),
                    3 => f64::from(rng.gen_range(0..3)) + 4e-6 * f64::from(rng.gen_range(0..4)),
                    _ => f64::from(rng.gen_range(18..70)),
                })
                .collect(),
        );
    }
    let p = [0.0, 0.05, 0.3, 0.5, 0.8, 1.0][rng.gen_range(0..6)];
    // Labels partly follow the first column so that trees grow deeper than noise allows.
    let labels: Vec<bool> = rows
        .iter()
        .map(|r| {
            if rng.gen_bool(0.5) && !r.is_empty() {
                r[0] > 1.0
            } else {
                rng.gen_bool(p)
            }
        })
        .collect();
    // Weights 1 / POSITIVE_WEIGHT, or (as merged duplicates carry) a sum of up to 4 of them.
    let merged = rng.gen_bool(0.4);
    let weights = labels
        .iter()
        .map(|&y| {
            let w = if y { POSITIVE_WEIGHT } else { 1.0 };
            let k = if merged { rng.gen_range(1..=4) } else { 1 };
            (0..k).fold(0.0f32, |s, _| s + w)
        })
        .collect();
    Case {
        rows,
        labels,
        weights,
    }
}

fn linfa_params(rng: &mut ChaCha8Rng) -> linfa_trees::DecisionTreeValidParams<f64, bool> {
    let depth = [None, Some(1), Some(2), Some(3), Some(4), Some(7)][rng.gen_range(0..6)];
    let mut p = DecisionTree::<f64, bool>::params().max_depth(depth);
    if rng.gen_bool(0.2) {
        p = p
            .min_weight_split([1.0, 3.0, 6.0][rng.gen_range(0..3)])
            .min_weight_leaf([0.5, 2.0, 4.5][rng.gen_range(0..3)])
            .min_impurity_decrease([1e-7, 1e-3, 0.02][rng.gen_range(0..3)]);
    }
    p.check().expect("valid parameters")
}

#[test]
fn fits_exactly_the_tree_linfa_trees_fits() {
    let mut checked_splits = 0;
    for seed in 0..600u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let case = random_case(&mut rng);
        let params = linfa_params(&mut rng);
        let n = case.rows.len();
        let width = case.rows[0].len();
        let x = Array2::from_shape_fn((n, width), |(i, j)| case.rows[i][j]);
        let data = Dataset::new(x, Array1::from(case.labels.clone()))
            .with_weights(Array1::from(case.weights.clone()));
        let theirs = params.fit(&data).expect("linfa fits");

        let columns: Vec<f64> = (0..width)
            .flat_map(|j| case.rows.iter().map(move |r| r[j]))
            .collect();
        let ours_params = TreeParams::from_linfa(&params).expect("Gini");
        let ours = tree::fit(&columns, n, &case.labels, &case.weights, &ours_params)
            .expect("our fit works");

        let name = format!("seed {seed} ({n} rows × {width}, {params:?})");
        same_tree(theirs.root_node(), &ours, 0, &name);
        assert_eq!(count(theirs.root_node()), ours.nodes().len(), "{name}");
        checked_splits += ours.nodes().iter().filter(|n| !n.leaf).count();

        // Predictions on the training rows and on fresh rows.
        let mut probe = case.rows.clone();
        for _ in 0..20 {
            probe.push((0..width).map(|_| rng.gen_range(-60.0..80.0)).collect());
        }
        let px = Array2::from_shape_fn((probe.len(), width), |(i, j)| probe[i][j]);
        let linfa_predict: Array1<bool> = theirs.predict(&px);
        for (r, &want) in probe.iter().zip(&linfa_predict) {
            assert_eq!(
                our_prediction(&ours, r, true),
                want,
                "{name}: predict of {r:?}"
            );
            assert_eq!(
                our_prediction(&ours, r, false),
                linfa_training_rule(theirs.root_node(), r),
                "{name}: training rule for {r:?}"
            );
        }
    }
    // The cases are not all stumps and leaves.
    assert!(
        checked_splits > 2000,
        "only {checked_splits} splits compared"
    );
}

/// The stopping rules `TreeParams::linfa_defaults` reads are linfa-trees' documented defaults.
#[test]
fn default_stopping_rules_are_linfas() {
    let p = TreeParams::linfa_defaults(Some(4));
    assert_eq!(p.max_depth, Some(4));
    assert_eq!(p.min_weight_split, 2.0);
    assert_eq!(p.min_weight_leaf, 1.0);
    assert_eq!(p.min_impurity_decrease, 1e-5);
    assert_eq!(TreeParams::linfa_defaults(None).max_depth, None);
}

/// Inputs that do not fit together are errors, not panics.
#[test]
fn refuses_bad_shapes() {
    let p = TreeParams::linfa_defaults(None);
    assert!(matches!(
        tree::fit(&[], 0, &[], &[], &p),
        Err(tree::TreeError::NoRows)
    ));
    assert!(matches!(
        tree::fit(&[1.0, 2.0, 3.0], 2, &[true, false], &[1.0, 1.0], &p),
        Err(tree::TreeError::Shape(_))
    ));
    assert!(matches!(
        tree::fit(&[1.0, 2.0], 2, &[true], &[1.0, 1.0], &p),
        Err(tree::TreeError::Shape(_))
    ));
}

/// Two adjacent floats above 2^40 whose midpoint rounds onto the larger one: the split sends
/// every row left, so linfa marks the node a leaf with only a left child and refits the same
/// rows below it until the depth cap. Both fits must agree there; without a cap (where linfa
/// recurses until its stack overflows) ours must still finish.
#[test]
fn a_split_that_sends_every_row_one_way() {
    let a = 2f64.powi(40) + 2f64.powi(-12);
    let b = a + 2f64.powi(-12);
    assert_eq!(
        (a + b) / 2.0,
        b,
        "the midpoint rounds onto the larger value"
    );
    let xs = [a, b, a, b, b];
    let labels = [false, true, false, true, true];
    let weights: Vec<f32> = labels
        .iter()
        .map(|&y| if y { POSITIVE_WEIGHT } else { 1.0 })
        .collect();
    for depth in [1, 2, 3, 5] {
        let params = DecisionTree::<f64, bool>::params()
            .max_depth(Some(depth))
            .check()
            .unwrap();
        let data = Dataset::new(
            Array2::from_shape_vec((5, 1), xs.to_vec()).unwrap(),
            Array1::from(labels.to_vec()),
        )
        .with_weights(Array1::from(weights.clone()));
        let theirs = params.fit(&data).unwrap();
        let ours = tree::fit(
            &xs,
            5,
            &labels,
            &weights,
            &TreeParams::from_linfa(&params).unwrap(),
        )
        .unwrap();
        same_tree(theirs.root_node(), &ours, 0, &format!("depth {depth}"));
        assert_eq!(count(theirs.root_node()), ours.nodes().len());
        // The root is a leaf holding a left child only, a chain down to the cap.
        let root = &ours.nodes()[0];
        assert!(root.leaf && root.right.is_none() && root.left.is_some());
        assert_eq!(ours.nodes().len(), depth + 1);
    }
    let ours = tree::fit(&xs, 5, &labels, &weights, &TreeParams::linfa_defaults(None)).unwrap();
    assert_eq!(ours.nodes().len(), 1);
    let root = &ours.nodes()[0];
    assert!(root.leaf && root.left.is_none() && root.right.is_none());
    assert_eq!(root.split, b);
}
