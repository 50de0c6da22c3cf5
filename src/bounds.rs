//! Range checks for settings values. Every check fails with the same error shape,
//! [`SettingsError::OutOfRange`], naming the settings key, the value given and the allowed
//! range, so a misspelt or out-of-range value anywhere in a settings file reads the same way.

use std::fmt::Display;

use crate::settings::SettingsError;

fn out(key: &str, value: impl Display, allowed: impl Into<String>) -> SettingsError {
    SettingsError::OutOfRange {
        key: key.to_string(),
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

/// A whole number in `lo..=hi`.
///
/// ```
/// use customer_intel::bounds::count;
/// assert!(count("folds", 5, 2, 50).is_ok());
/// let e = count("folds", 1, 2, 50).unwrap_err().to_string();
/// assert!(e.contains("`folds`") && e.contains("1") && e.contains("2 to 50"), "{e}");
/// ```
pub fn count(key: &str, value: usize, lo: usize, hi: usize) -> Result<(), SettingsError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(out(key, value, whole(lo, hi)))
    }
}

fn whole(lo: usize, hi: usize) -> String {
    format!("a whole number from {lo} to {hi}")
}

/// A whole number in `lo..=hi` where one end comes from another setting, named `tied_to`, so
/// the message also names the key the user may have changed instead of this one.
///
/// ```
/// use customer_intel::bounds::count_tied;
/// let e = count_tied("drift.train_window", 3, 1, 2, "drift.batches").unwrap_err().to_string();
/// assert!(e.contains("`drift.train_window`") && e.contains("`drift.batches`"), "{e}");
/// ```
pub fn count_tied(
    key: &str,
    value: usize,
    lo: usize,
    hi: usize,
    tied_to: &str,
) -> Result<(), SettingsError> {
    count(key, value, lo, hi).map_err(|_| {
        out(
            key,
            value,
            format!("{} (a bound set by `{tied_to}`)", whole(lo, hi)),
        )
    })
}

/// A finite number in `[lo, hi]`.
pub fn closed(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), SettingsError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(out(key, value, format!("a number in [{lo}, {hi}]")))
    }
}

/// A finite number in `(lo, hi]`.
pub fn open_closed(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), SettingsError> {
    if value.is_finite() && value > lo && value <= hi {
        Ok(())
    } else {
        Err(out(key, value, format!("a number in ({lo}, {hi}]")))
    }
}

/// A finite number in `(lo, hi)`.
pub fn open(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), SettingsError> {
    if value.is_finite() && value > lo && value < hi {
        Ok(())
    } else {
        Err(out(key, value, format!("a number in ({lo}, {hi})")))
    }
}

/// A list of `lo..=hi` finite numbers, strictly increasing, with `min_len..=max_len` entries.
pub fn increasing(
    key: &str,
    values: &[f64],
    (lo, hi): (f64, f64),
    (min_len, max_len): (usize, usize),
) -> Result<(), SettingsError> {
    let ok = (min_len..=max_len).contains(&values.len())
        && values.iter().all(|v| v.is_finite() && *v >= lo && *v <= hi)
        && values.windows(2).all(|w| w[0] < w[1]);
    if ok {
        Ok(())
    } else {
        Err(out(
            key,
            format!("{values:?}"),
            format!("{min_len} to {max_len} strictly increasing numbers in [{lo}, {hi}]"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_names_key_value_and_range() {
        let e = closed("eda.skew", f64::NAN, 0.0, 10.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`eda.skew`") && e.contains("NaN") && e.contains("[0, 10]"),
            "{e}"
        );
        assert!(open("x", 0.0, 0.0, 1.0).is_err());
        assert!(open("x", 0.5, 0.0, 1.0).is_ok());
        assert!(open_closed("x", 1.0, 0.0, 1.0).is_ok());
        assert!(open_closed("x", 0.0, 0.0, 1.0).is_err());
        assert!(increasing("g", &[1.0, 2.0], (0.0, 5.0), (1, 3)).is_ok());
        assert!(increasing("g", &[2.0, 2.0], (0.0, 5.0), (1, 3)).is_err());
        assert!(increasing("g", &[], (0.0, 5.0), (1, 3)).is_err());
        assert!(count("n", 0, 1, 3).is_err());
    }
}
