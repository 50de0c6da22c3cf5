//! Number formatting for people, and the tera filters that expose it to templates.
//!
//! Every number in the README, report and slides goes through these functions: thousands
//! separators (`12,345`), a sensible number of decimals chosen from the magnitude
//! (three significant digits, never fewer decimals than the integer part needs), percentages,
//! and `mean ± spread`. Missing values (serde writes a NaN as `null`) print as `n/a`.
//!
//! Filters registered in the template environment:
//!
//! | filter | example | output |
//! |---|---|---|
//! | `num` | `{{ 12345.678 \| num }}` / `{{ x \| num(d=2) }}` | `12,346` / `12,345.68` |
//! | `int` | `{{ 238 \| int }}` | `238` |
//! | `pct` | `{{ 0.7479 \| pct }}` / `pct(d=0)` | `74.8%` / `75%` |
//! | `pm` | `{{ 0.81 \| pm(sd=0.034) }}` | `0.810 ± 0.034` |
//! | `signed` | `{{ 0.12 \| signed }}` | `+0.120` |
//! | `yesno` | `{{ true \| yesno }}` | `yes` |
//! | `met` | `{{ true \| met }}` | `met` / `**not met**` |
//! | `clip` | `{{ s \| clip(length=170) }}` | at most 170 characters, cut at the last sentence or clause end |

use std::collections::HashMap;

use tera::{Tera, Value};

/// Text printed for a missing or non-finite number.
pub const MISSING: &str = "n/a";

/// Formats `x` with exactly `decimals` decimals and a comma every three integer digits.
///
/// ```
/// use customer_intel::render::format::grouped;
/// assert_eq!(grouped(1234567.891, 2), "1,234,567.89");
/// assert_eq!(grouped(-0.0004, 2), "0.00");
/// assert_eq!(grouped(f64::NAN, 2), "n/a");
/// ```
pub fn grouped(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return MISSING.to_string();
    }
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    let digits = int.as_bytes();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(*d as char);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    // A value that rounds to zero prints without a sign ("-0.00" would be noise).
    let is_zero = out.bytes().all(|b| matches!(b, b'0' | b'.' | b','));
    if x < 0.0 && !is_zero {
        out.insert(0, '-');
    }
    out
}

/// The number of decimals that shows `x` with about three significant digits
/// (none for |x| ≥ 100 or a whole number, at most 4).
///
/// ```
/// use customer_intel::render::format::sensible_decimals;
/// assert_eq!(sensible_decimals(0.8123), 3);
/// assert_eq!(sensible_decimals(45.67), 1);
/// assert_eq!(sensible_decimals(12345.0), 0);
/// assert_eq!(sensible_decimals(0.0123), 4);
/// assert_eq!(sensible_decimals(14.0), 0);
/// ```
pub fn sensible_decimals(x: f64) -> usize {
    // Whole numbers (counts, ages, whole dollars) print without decimals.
    if !x.is_finite() || x.fract() == 0.0 {
        return 0;
    }
    let mag = x.abs().log10().floor() as i64;
    (2 - mag).clamp(0, 4) as usize
}

/// Formats with [`sensible_decimals`] unless `decimals` is given.
pub fn num(x: f64, decimals: Option<usize>) -> String {
    grouped(x, decimals.unwrap_or_else(|| sensible_decimals(x)))
}

/// A share in [0, 1] as a percentage with `decimals` decimals: `0.7479 → "74.8%"`.
pub fn pct(share: f64, decimals: usize) -> String {
    if !share.is_finite() {
        return MISSING.to_string();
    }
    format!("{}%", grouped(share * 100.0, decimals))
}

/// `mean ± spread`, both with the same decimals (chosen from the spread when not given, so the
/// mean is not shown more precisely than its spread supports, but with at least 3 for scores < 1).
pub fn pm(mean: f64, spread: f64, decimals: Option<usize>) -> String {
    if !mean.is_finite() {
        return MISSING.to_string();
    }
    if !spread.is_finite() {
        return num(mean, decimals);
    }
    let d = decimals.unwrap_or_else(|| {
        let from_mean = sensible_decimals(mean);
        let from_spread = if spread > 0.0 {
            sensible_decimals(spread).saturating_sub(1)
        } else {
            from_mean
        };
        from_mean.max(from_spread.min(4))
    });
    format!("{} ± {}", grouped(mean, d), grouped(spread, d))
}

/// A signed number: `+0.120`, `-3.4`.
pub fn signed(x: f64, decimals: Option<usize>) -> String {
    let s = num(x, decimals);
    if x.is_finite() && x > 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        format!("+{s}")
    } else {
        s
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn arg_usize(
    args: &HashMap<String, Value>,
    name: &str,
    filter: &str,
) -> tera::Result<Option<usize>> {
    match args.get(name) {
        None => Ok(None),
        Some(v) => v.as_u64().map(|d| Some(d as usize)).ok_or_else(|| {
            tera::Error::msg(format!(
                "filter `{filter}`: argument `{name}` must be a whole number, got {v}"
            ))
        }),
    }
}

/// Reads the filtered value as a number; `null` (a NaN in findings) becomes `None`.
fn value_f64(v: &Value, filter: &str) -> tera::Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(_) => Ok(as_f64(v)),
        other => Err(tera::Error::msg(format!(
            "filter `{filter}` expects a number, got {other}"
        ))),
    }
}

fn text(s: String) -> tera::Result<Value> {
    Ok(Value::String(s))
}

/// Shortens `s` to at most `length` characters for a slide: after the last full sentence that
/// fits, else at the last clause boundary (`;`, `:`, `,`, ` — `) or word that fits, marked `…`.
/// Unlike tera's `truncate`, it never ends mid-word. A text that is too long loses its
/// parenthesised asides first.
pub fn clip(s: &str, length: usize) -> String {
    if s.chars().count() <= length {
        return s.to_string();
    }
    // Too long: first drop the parenthesised asides (how a number was measured, n, units), which
    // the speaker notes keep in full, then cut what is still too long.
    let s = without_asides(s);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= length {
        return s;
    }
    let head: String = chars[..length].iter().collect();
    // byte offsets inside `head`
    let sentence = head.match_indices(". ").map(|(i, _)| i + 1).last();
    if let Some(end) = sentence.filter(|&e| e >= head.len() / 3) {
        return head[..end].to_string();
    }
    let clause = ["; ", ": ", ", ", " — "]
        .iter()
        .filter_map(|sep| head.rfind(sep))
        .max()
        .filter(|&e| e >= head.len() / 2);
    let word = head.rfind(' ');
    let end = clause.or(word).unwrap_or(head.len());
    format!("{}…", head[..end].trim_end_matches([',', ';', ':', ' ']))
}

/// `s` without its parenthesised asides (nested ones included) and the space before each.
fn without_asides(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => {
                if depth == 0 && out.ends_with(' ') {
                    out.pop();
                }
                depth += 1;
            }
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if depth > 0 {
        return s.to_string(); // unbalanced: leave the text as written
    }
    out
}

/// Registers the number filters (`num`, `int`, `pct`, `pm`, `signed`, `yesno`, `met`) and the
/// slide text filter `clip` on `tera`.
pub fn register(tera: &mut Tera) {
    tera.register_filter("num", |v: &Value, args: &HashMap<String, Value>| {
        let d = arg_usize(args, "d", "num")?;
        text(value_f64(v, "num")?.map_or_else(|| MISSING.into(), |x| num(x, d)))
    });
    tera.register_filter("int", |v: &Value, _: &HashMap<String, Value>| {
        text(value_f64(v, "int")?.map_or_else(|| MISSING.into(), |x| grouped(x, 0)))
    });
    tera.register_filter("pct", |v: &Value, args: &HashMap<String, Value>| {
        let d = arg_usize(args, "d", "pct")?.unwrap_or(1);
        text(value_f64(v, "pct")?.map_or_else(|| MISSING.into(), |x| pct(x, d)))
    });
    tera.register_filter("pm", |v: &Value, args: &HashMap<String, Value>| {
        let d = arg_usize(args, "d", "pm")?;
        let sd = match args.get("sd") {
            Some(s) => value_f64(s, "pm")?.unwrap_or(f64::NAN),
            None => {
                return Err(tera::Error::msg(
                    "filter `pm` needs the spread: `pm(sd=...)`",
                ));
            }
        };
        text(value_f64(v, "pm")?.map_or_else(|| MISSING.into(), |x| pm(x, sd, d)))
    });
    tera.register_filter("signed", |v: &Value, args: &HashMap<String, Value>| {
        let d = arg_usize(args, "d", "signed")?;
        text(value_f64(v, "signed")?.map_or_else(|| MISSING.into(), |x| signed(x, d)))
    });
    tera.register_filter("yesno", |v: &Value, _: &HashMap<String, Value>| match v {
        Value::Bool(b) => text(if *b { "yes" } else { "no" }.into()),
        Value::Null => text(MISSING.into()),
        other => Err(tera::Error::msg(format!(
            "filter `yesno` expects true or false, got {other}"
        ))),
    });
    tera.register_filter("clip", |v: &Value, args: &HashMap<String, Value>| {
        let length = arg_usize(args, "length", "clip")?.unwrap_or(170);
        match v {
            Value::String(s) => text(clip(s, length)),
            other => Err(tera::Error::msg(format!(
                "filter `clip` expects text, got {other}"
            ))),
        }
    });
    tera.register_filter("met", |v: &Value, _: &HashMap<String, Value>| match v {
        // Words, not emoji: a PDF printed where no emoji font is installed showed empty boxes.
        Value::Bool(b) => text(if *b { "met" } else { "**not met**" }.into()),
        Value::Null => text("— not measured".into()),
        other => Err(tera::Error::msg(format!(
            "filter `met` expects true or false, got {other}"
        ))),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_rounding() {
        assert_eq!(grouped(0.0, 0), "0");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(1000.0, 0), "1,000");
        assert_eq!(grouped(-1234567.0, 0), "-1,234,567");
        assert_eq!(grouped(123456.789, 1), "123,456.8");
        assert_eq!(grouped(999.96, 1), "1,000.0");
        assert_eq!(grouped(-0.04, 1), "0.0");
        assert_eq!(grouped(f64::INFINITY, 1), MISSING);
    }

    #[test]
    fn sensible_and_derived() {
        assert_eq!(num(57407.0, None), "57,407");
        assert_eq!(num(0.9876, None), "0.988");
        assert_eq!(num(1.23456, None), "1.23");
        assert_eq!(num(0.0, None), "0");
        assert_eq!(pct(0.25210084, 1), "25.2%");
        assert_eq!(pm(0.8123, 0.0346, None), "0.812 ± 0.035");
        assert_eq!(pm(425.3, 12.1, None), "425 ± 12");
        assert_eq!(pm(0.5, f64::NAN, Some(2)), "0.50");
        assert_eq!(signed(0.1234, None), "+0.123");
        assert_eq!(signed(-2.0, Some(1)), "-2.0");
        assert_eq!(signed(0.0001, Some(1)), "0.0");
    }

    #[test]
    fn clip_ends_at_a_sentence_or_a_clause() {
        let two = "First sentence is here. Second one is much longer than the room left.";
        assert_eq!(clip(two, 40), "First sentence is here.");
        assert_eq!(clip(two, 200), two);
        let one =
            "Use ols for spend: its R² (0.989) is within one sd of the best, and it is simple";
        assert_eq!(
            clip(one, 70),
            "Use ols for spend: its R² is within one sd of the best…"
        );
        assert_eq!(clip("abc def ghi", 6), "abc…");
        // asides go first when the text is too long, nested ones included
        let asides = "The target (R² > 0.80 and RMSE < 0.5 × sd(spend)) is met, but one column (age) meets it too.";
        assert_eq!(
            clip(asides, 60),
            "The target is met, but one column meets it too."
        );
        assert_eq!(clip("short (kept)", 60), "short (kept)");
        assert_eq!(
            clip("unbalanced ( aside is kept as written, then cut", 20),
            "unbalanced ( aside…"
        );
        assert_eq!(clip("abcdefghij", 4), "abcd…");
        // characters, not bytes
        assert_eq!(clip("ééé ééé", 5), "ééé…");
    }

    #[test]
    fn filters_in_a_template() {
        let mut t = Tera::default();
        register(&mut t);
        t.add_raw_template(
            "t",
            "{{ a | num }}|{{ a | num(d=2) }}|{{ s | pct }}|{{ m | pm(sd=sd) }}|{{ n | num }}|{{ ok | met }}|{{ 238 | int }}",
        )
        .unwrap();
        let ctx = tera::Context::from_value(serde_json::json!({
            "a": 12345.678, "s": 0.5, "m": 0.9, "sd": 0.01, "n": null, "ok": false
        }))
        .unwrap();
        assert_eq!(
            t.render("t", &ctx).unwrap(),
            "12,346|12,345.68|50.0%|0.900 ± 0.010|n/a|**not met**|238"
        );
    }
}
