//! Decimal formatting for reason details, without float formatting.
//!
//! `format!("{:.2}", x)` links Rust's float-to-decimal machinery into the module: about
//! 20 KB of a 50 KB policy. Reason details only ever need a few fixed places, so
//! [`fixed`] rounds to an integer and prints that, which costs next to nothing.

use std::fmt;

/// Formats `value` with exactly `places` decimals (at most 9): `fixed(750.0, 2)` prints `750.00`.
///
/// Rounds half away from zero; non-finite values print as `NaN`, `inf` and `-inf`.
pub fn fixed(value: f64, places: u8) -> Fixed {
    Fixed {
        value,
        places: places.min(9),
    }
}

/// A value that [`fixed`] formats with a fixed number of decimals.
#[must_use]
#[derive(Clone, Copy, Debug)]
pub struct Fixed {
    value: f64,
    places: u8,
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_nan() {
            return f.write_str("NaN");
        }
        if self.value.is_infinite() {
            return f.write_str(if self.value > 0.0 { "inf" } else { "-inf" });
        }
        let scale = 10_u64.pow(u32::from(self.places));
        // `as` saturates: values beyond ±1.7e38 / scale print clamped, which no amount,
        // share or mean a policy reports comes near.
        let scaled = (self.value * scale as f64).round() as i128;
        let sign = if scaled < 0 { "-" } else { "" };
        let magnitude = scaled.unsigned_abs();
        let scale = u128::from(scale);
        write!(f, "{sign}{}", magnitude / scale)?;
        if self.places > 0 {
            let width = usize::from(self.places);
            write!(f, ".{:0width$}", magnitude % scale)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn formats_like_the_float_formatter_for_ordinary_values() {
        for (value, places) in [
            (750.0, 2),
            (1.2, 2),
            (0.25, 2),
            (0.005, 2),
            (-3.456, 1),
            (42.0, 0),
        ] {
            assert_eq!(
                fixed(value, places).to_string(),
                format!("{value:.*}", usize::from(places)),
                "{value}"
            );
        }
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(fixed(2.5, 0).to_string(), "3");
        assert_eq!(fixed(-2.5, 0).to_string(), "-3");
        assert_eq!(fixed(-0.001, 2).to_string(), "0.00");
    }

    #[test]
    fn non_finite_values_are_named() {
        assert_eq!(fixed(f64::NAN, 2).to_string(), "NaN");
        assert_eq!(fixed(f64::NEG_INFINITY, 2).to_string(), "-inf");
    }
}
