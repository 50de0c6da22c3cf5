//! Segmentation figures, drawn from [`SegmentationFindings`] only: scores against k with the
//! chosen k and the knee marked, the per-cluster silhouette plot, the 2-D PCA scatter coloured by
//! cluster, and the persona profile chart.

use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::analysis::segmentation::{PcaView, SegmentationFindings, SilhouetteProfile};
use crate::plot::Figure;
use crate::plot::frame::{self, Area, PlotError, STANDARD, font, px, series as colour};

type DrawResult = Result<(), PlotError>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Renders one standard-size SVG with a white background.
fn render(draw: impl FnOnce(&Area) -> DrawResult) -> String {
    frame::render(STANDARD, draw)
}

/// A chart on `area` with the shared margins, caption and label areas.
fn chart<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, 'b>, PlotError> {
    Ok(ChartBuilder::on(area)
        .caption(caption, font(px::CHART_TITLE))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(58)
        .build_cartesian_2d(x, y)?)
}

/// A dashed reference line between two points.
fn dashed(
    a: (f64, f64),
    b: (f64, f64),
    c: RGBColor,
) -> DashedPathElement<std::vec::IntoIter<(f64, f64)>, i32> {
    DashedPathElement::new(vec![a, b], 6, 4, c.stroke_width(2))
}

/// Axis tick text with two significant decimals at most, never "-0.0".
fn tick(v: &f64) -> String {
    let t = format!("{v:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.').to_string();
    if t == "-0" { "0".into() } else { t }
}

/// Raises `hi` so that a legend of `entries` lines fits above the data in the upper corner.
fn headroom(lo: f64, hi: f64, entries: usize) -> f64 {
    let share = ((entries as f64 + 1.0) * 20.0 / 330.0).min(0.6);
    hi + (hi - lo) * share / (1.0 - share)
}

/// A value in original units, short: 66.3k, 527, 7.2.
fn compact(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// Every segmentation figure (none when segmentation did not run).
pub fn figures(f: &SegmentationFindings) -> Vec<Figure> {
    if f.skipped.is_some() || f.per_k.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Figure {
        name: "segmentation_k.svg".into(),
        caption: format!(
            "k-means inertia and silhouette against k; chosen k = {} (dashed), inertia knee at k = {}",
            f.chosen_k,
            f.knee_k.map_or("none".to_string(), |k| k.to_string())
        ),
        svg: render(|root| k_scores(root, f)),
    }];
    if let Some(p) = &f.silhouette_profile {
        out.push(Figure {
            name: "segmentation_silhouette.svg".into(),
            caption: format!(
                "Silhouette value of every row by cluster ({})",
                p.measured_on
            ),
            svg: render(|root| silhouette(root, f, p)),
        });
    }
    if let Some(p) = &f.pca {
        out.push(Figure {
            name: "segmentation_pca.svg".into(),
            caption: format!(
                "Customers on the first two principal components ({:.1}% and {:.1}% of variance), coloured by cluster, with centroids",
                100.0 * p.variance_share[0],
                100.0 * p.variance_share[1]
            ),
            svg: render(|root| pca(root, f, p)),
        });
    }
    if !f.personas.is_empty() {
        out.push(Figure {
            name: "segmentation_personas.svg".into(),
            caption: "Persona profiles: each cluster's mean of every feature, in standard deviations from the overall mean (bar labels: the mean in the column's own units)".into(),
            svg: render(|root| personas(root, f)),
        });
    }
    out
}

fn k_scores(root: &Area, f: &SegmentationFindings) -> DrawResult {
    let (left, right) = root.split_horizontally(STANDARD.0 / 2);
    let (k0, k1) = (
        f.per_k[0].k as f64 - 0.5,
        f.per_k[f.per_k.len() - 1].k as f64 + 0.5,
    );
    let int_fmt = |v: &f64| format!("{v:.0}");
    let chosen = f.chosen_k as f64;

    let (_, imax) = span(f.per_k.iter().map(|c| c.inertia));
    let mut c = chart(&left, "Inertia by k", k0..k1, 0.0..imax * 1.08)?;
    c.configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("number of clusters k")
        .y_desc("inertia (sum of squared z-distances)")
        .x_labels(f.per_k.len())
        .x_label_formatter(&int_fmt)
        .y_label_formatter(&tick)
        .label_style(font(px::TICK))
        .draw()?;
    c.draw_series(LineSeries::new(
        f.per_k.iter().map(|s| (s.k as f64, s.inertia)),
        colour(0).stroke_width(2),
    ))?;
    c.draw_series(
        f.per_k
            .iter()
            .map(|s| Circle::new((s.k as f64, s.inertia), 4, colour(0).filled())),
    )?;
    c.draw_series(std::iter::once(dashed(
        (chosen, 0.0),
        (chosen, imax * 1.08),
        colour(3),
    )))?
    .label(format!("chosen k = {}", f.chosen_k))
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour(3).stroke_width(2)));
    if let Some(knee) = f.knee_k.and_then(|k| f.per_k.iter().find(|s| s.k == k)) {
        c.draw_series(std::iter::once(Cross::new(
            (knee.k as f64, knee.inertia),
            9,
            BLACK.stroke_width(3),
        )))?
        .label(format!("knee k = {}", knee.k))
        .legend(|(x, y)| Cross::new((x + 9, y), 5, BLACK.stroke_width(2)));
    }
    frame::legend(&mut c, SeriesLabelPosition::UpperRight)?;

    let (lo, hi) = span(
        f.per_k
            .iter()
            .flat_map(|c| [c.silhouette_all, c.silhouette_distinct]),
    );
    let (ylo, yhi) = (
        (lo.min(f.silhouette_target) - 0.05).max(-1.0),
        (hi.max(f.silhouette_target) + 0.08).min(1.0),
    );
    // The two curves can run anywhere in the panel (on the bundled table the distinct rows' dips
    // to the bottom right at k = 9), so the legend's three lines get their own headroom above.
    let yhi = headroom(ylo, yhi, 3);
    let mut c = chart(&right, "Mean silhouette by k", k0..k1, ylo..yhi)?;
    c.configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("number of clusters k")
        .y_desc("mean silhouette (-1 to 1)")
        .x_labels(f.per_k.len())
        .x_label_formatter(&int_fmt)
        .y_label_formatter(&tick)
        .label_style(font(px::TICK))
        .draw()?;
    for (i, (name, get)) in [
        (
            "all rows",
            (|s: &crate::analysis::segmentation::KScore| s.silhouette_all) as fn(&_) -> f64,
        ),
        ("distinct rows", |s| s.silhouette_distinct),
    ]
    .into_iter()
    .enumerate()
    {
        let col = colour(i);
        c.draw_series(LineSeries::new(
            f.per_k.iter().map(|s| (s.k as f64, get(s))),
            col.stroke_width(2),
        ))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
        c.draw_series(
            f.per_k
                .iter()
                .map(|s| Circle::new((s.k as f64, get(s)), 4, col.filled())),
        )?;
    }
    c.draw_series(std::iter::once(dashed(
        (k0, f.silhouette_target),
        (k1, f.silhouette_target),
        colour(7),
    )))?
    .label(format!("target {}", f.silhouette_target))
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour(7).stroke_width(2)));
    c.draw_series(std::iter::once(dashed(
        (chosen, ylo),
        (chosen, yhi),
        colour(3),
    )))?;
    frame::legend(&mut c, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn silhouette(root: &Area, f: &SegmentationFindings, p: &SilhouetteProfile) -> DrawResult {
    let gap = (p.values.iter().map(Vec::len).sum::<usize>() as f64 * 0.09).max(3.0);
    let total: f64 =
        p.values.iter().map(|v| v.len() as f64).sum::<f64>() + gap * (p.values.len() + 1) as f64;
    let (lo, _) = span(p.values.iter().flatten().copied());
    let xlo = lo.min(0.0) - 0.1;
    let mut c = chart(
        root,
        &format!("Silhouette per cluster, k = {}", f.chosen_k),
        xlo..1.0,
        0.0..total,
    )?;
    c.configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("silhouette value (-1 to 1)")
        .y_desc("rows, grouped by cluster")
        .y_labels(0)
        .disable_y_mesh()
        .x_label_formatter(&tick)
        .label_style(font(px::TICK))
        .draw()?;
    let mut y = gap;
    for (cl, vals) in p.values.iter().enumerate() {
        let col = colour(cl);
        let start = y;
        c.draw_series(vals.iter().enumerate().map(|(i, v)| {
            let yy = start + i as f64;
            Rectangle::new([(0.0, yy), (*v, yy + 1.0)], col.mix(0.85).filled())
        }))?;
        let name = f
            .personas
            .get(cl)
            .map_or(String::new(), |p| format!(": {}", p.action));
        c.draw_series(std::iter::once(Text::new(
            format!(
                "cluster {cl}{name} (n = {}, mean {:.2})",
                vals.len(),
                p.cluster_means[cl]
            ),
            (0.01, start + vals.len() as f64 + gap * 0.85),
            font(px::TICK).color(&BLACK),
        )))?;
        y += vals.len() as f64 + gap;
    }
    let mean = f.chosen_silhouette_all;
    c.draw_series(std::iter::once(dashed(
        (mean, 0.0),
        (mean, total),
        colour(3),
    )))?
    .label(format!("mean {mean:.3}"))
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour(3).stroke_width(2)));
    c.draw_series(std::iter::once(dashed(
        (f.silhouette_target, 0.0),
        (f.silhouette_target, total),
        colour(7),
    )))?
    .label(format!("target {}", f.silhouette_target))
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour(7).stroke_width(2)));
    frame::legend(&mut c, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

fn pca(root: &Area, f: &SegmentationFindings, p: &PcaView) -> DrawResult {
    let (x0, x1) = span(p.points.iter().map(|q| q[0]));
    let (y0, y1) = span(p.points.iter().map(|q| q[1]));
    let pad = |a: f64, b: f64| {
        let m = ((b - a) * 0.08).max(0.1);
        (a - m)..(b + m)
    };
    let yr = pad(y0, y1);
    let yr = yr.start..headroom(yr.start, yr.end, p.centroids.len() + 1);
    let mut c = chart(
        root,
        &format!("Customers in PCA space, k = {}", f.chosen_k),
        pad(x0, x1),
        yr,
    )?;
    c.configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(format!(
            "PC1 ({:.1}% of variance; z-score units)",
            100.0 * p.variance_share[0]
        ))
        .y_desc(format!(
            "PC2 ({:.1}% of variance; z-score units)",
            100.0 * p.variance_share[1]
        ))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(font(px::TICK))
        .draw()?;
    for cl in 0..p.centroids.len() {
        let col = colour(cl);
        let name = f
            .personas
            .get(cl)
            .map_or(format!("cluster {cl}"), |q| format!("{cl}: {}", q.name));
        c.draw_series(
            p.points
                .iter()
                .zip(&p.labels)
                .filter(|(_, l)| **l == cl)
                .map(|(q, _)| Circle::new((q[0], q[1]), 3, col.mix(0.6).filled())),
        )?
        .label(name)
        .legend(move |(x, y)| Circle::new((x + 8, y), 4, col.filled()));
    }
    c.draw_series(
        p.centroids
            .iter()
            .map(|q| Cross::new((q[0], q[1]), 9, BLACK.stroke_width(3))),
    )?
    .label("centroid")
    .legend(|(x, y)| Cross::new((x + 8, y), 5, BLACK.stroke_width(2)));
    frame::legend(&mut c, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

fn personas(root: &Area, f: &SegmentationFindings) -> DrawResult {
    let d = f.features.len();
    let k = f.personas.len();
    let (lo, hi) = span(
        f.personas
            .iter()
            .flat_map(|p| p.centroid.iter().map(|c| c.z)),
    );
    let ylo = lo.min(0.0) - 0.25;
    let yhi = headroom(ylo, hi.max(0.0) + 0.25, k);
    let names = f.features.clone();
    let fmt = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            names
                .get(i as usize)
                .map_or(String::new(), |n| n.replace('_', " "))
        } else {
            String::new()
        }
    };
    let mut c = chart(
        root,
        &format!("Persona profiles, k = {k}"),
        -0.5..(d as f64 - 0.5),
        ylo..yhi,
    )?;
    c.configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("feature")
        .y_desc("cluster mean (SDs from overall mean)")
        .x_labels(d)
        .x_label_formatter(&fmt)
        .y_label_formatter(&tick)
        .disable_x_mesh()
        .label_style(font(px::TICK))
        .draw()?;
    let width = 0.8 / k as f64;
    for (cl, p) in f.personas.iter().enumerate() {
        let col = colour(cl);
        c.draw_series(p.centroid.iter().enumerate().map(|(j, v)| {
            let left = j as f64 - 0.4 + cl as f64 * width;
            Rectangle::new([(left, 0.0), (left + width * 0.92, v.z)], col.filled())
        }))?
        .label(format!("{cl}: {} — {}", p.name, p.action))
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], col.filled()));
        if k <= 5 {
            // The centroid in the column's own units, at the end of each bar.
            let pad = 0.03 * (yhi - ylo);
            c.draw_series(p.centroid.iter().enumerate().map(|(j, v)| {
                let left = j as f64 - 0.4 + cl as f64 * width;
                let y = if v.z >= 0.0 {
                    v.z + pad * 1.8
                } else {
                    v.z - pad * 0.4
                };
                Text::new(compact(v.value), (left, y), font(px::NOTE).color(&BLACK))
            }))?;
        }
    }
    c.draw_series(std::iter::once(PathElement::new(
        vec![(-0.5, 0.0), (d as f64 - 0.5, 0.0)],
        BLACK.stroke_width(1),
    )))?;
    frame::legend(&mut c, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::segmentation;
    use crate::data::{self, SynthSpec};
    use crate::settings::Settings;

    #[test]
    fn four_deterministic_figures_with_labelled_axes() {
        let ds = data::synth(
            200,
            3,
            &SynthSpec {
                clusters: 3,
                ..SynthSpec::default()
            },
        );
        let mut s = Settings::default();
        s.segmentation.k_max = 5;
        s.segmentation.bootstrap_resamples = 2;
        s.segmentation.stability_seeds = 2;
        s.segmentation.gmm_inits = 1;
        let f = segmentation::run(&ds, &s);
        let a = figures(&f);
        assert_eq!(
            a.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            [
                "segmentation_k.svg",
                "segmentation_silhouette.svg",
                "segmentation_pca.svg",
                "segmentation_personas.svg"
            ]
        );
        assert_eq!(a, figures(&f));
        assert!(a[0].svg.contains("number of clusters k") && a[0].svg.contains("chosen k = 3"));
        assert!(a[2].svg.contains("PC1 ("));
        assert!(a[3].svg.contains(&f.personas[2].action));
        for fig in &a {
            assert!(
                fig.svg.starts_with("<svg") && fig.svg.contains("width=\"720\""),
                "{}",
                fig.name
            );
        }
        let skipped = segmentation::SegmentationFindings {
            skipped: Some("x".into()),
            ..Default::default()
        };
        assert!(figures(&skipped).is_empty());
    }
}
