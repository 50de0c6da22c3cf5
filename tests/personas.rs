//! The bundled table's personas against an independent computation: pandas + scikit-learn
//! (`tests/reference/personas.py`, output `tests/reference/personas.json`) fit the same k = 2
//! solution and give cluster sizes, means, standardised differences, value and engagement scores,
//! PC1's variance share, each centroid's share on PC1 and the region mix. From those the stated
//! rules fix the expected names and actions, which the analysis must reproduce.
mod common;

use common::{assert_close, bundled};
use customer_intel::analysis::segmentation::{self, personas};
use customer_intel::settings::Settings;
use serde_json::Value;

const FEATURES: [&str; 5] = [
    "age",
    "annual_income",
    "loyalty_score",
    "purchase_frequency",
    "purchase_amount",
];

#[test]
fn bundled_personas_match_the_reference_and_read_as_stated() {
    let reference: Value = common::Reference::load("personas").get("").clone();
    let settings = Settings::default();
    let f = segmentation::run(&bundled(), &settings);
    assert_eq!(f.chosen_k, 2);
    let cut = f.persona_cutoffs.as_ref().unwrap();
    assert_close(
        cut.pc1_share,
        reference["pc1_share"].as_f64().unwrap(),
        1e-9,
    );
    let refs = reference["clusters"].as_array().unwrap();
    let min_on_pc1 = refs
        .iter()
        .map(|c| c["share_on_pc1"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_close(cut.min_centroid_share_on_pc1, min_on_pc1, 1e-9);
    assert!(cut.one_axis);
    let s = &settings.segmentation;
    for (p, r) in f.personas.iter().zip(refs) {
        assert_eq!(p.size as u64, r["size"].as_u64().unwrap());
        let z: Vec<f64> = FEATURES
            .iter()
            .map(|c| r["z"][c].as_f64().unwrap())
            .collect();
        for (j, c) in FEATURES.iter().enumerate() {
            let cv = p.centroid.iter().find(|v| v.feature == *c).unwrap();
            assert_close(cv.value, r["means"][c].as_f64().unwrap(), 1e-12);
            assert_close(cv.z, z[j], 1e-9);
        }
        assert_close(p.value_score, r["value_score"].as_f64().unwrap(), 1e-9);
        assert_close(
            p.engagement_score,
            r["engagement_score"].as_f64().unwrap(),
            1e-9,
        );
        for l in &p.category_mix {
            assert_eq!(
                l.count as u64,
                r["regions"][&l.level].as_u64().unwrap_or(0),
                "{}",
                l.level
            );
        }
        // The name the stated rule gives the reference numbers: position on the one axis, then
        // the largest traits with the cluster mean in the column's units.
        let mut order: Vec<usize> = (0..5)
            .filter(|&j| z[j].abs() >= s.persona_trait_threshold)
            .collect();
        order.sort_by(|&a, &b| z[b].abs().total_cmp(&z[a].abs()));
        let words = personas::default_trait_words();
        let named: Vec<String> = order
            .iter()
            .take(s.persona_max_traits)
            .map(|&j| {
                let c = FEATURES[j];
                let w = &words[c];
                let integer = c != "loyalty_score";
                format!(
                    "{} ({}{})",
                    if z[j] > 0.0 { &w.high } else { &w.low },
                    personas::short_value(r["means"][c].as_f64().unwrap(), integer),
                    w.suffix
                )
            })
            .collect();
        let end = if p.cluster == 0 {
            "Low end"
        } else {
            "High end"
        };
        assert_eq!(p.name, format!("{end} of one axis: {}", named.join(", ")));
        let level = |x: f64, cut: f64| {
            if x > cut {
                "high"
            } else if x < -cut {
                "low"
            } else {
                "average"
            }
        };
        let want = match (
            level(r["value_score"].as_f64().unwrap(), s.persona_value_cut),
            level(
                r["engagement_score"].as_f64().unwrap(),
                s.persona_engagement_cut,
            ),
        ) {
            ("high", "high") => "reward and retain",
            ("high", "low") => "win loyalty",
            ("low", "high") => "upsell",
            ("low", "low") => "low-cost nurture",
            _ => "standard programme",
        };
        assert_eq!(p.action, want);
    }
    assert_eq!(
        f.personas[0].name,
        "Low end of one axis: low loyalty (4.9), younger (29), low spend (288)"
    );
    assert_eq!(f.personas[1].action, "reward and retain");
}
