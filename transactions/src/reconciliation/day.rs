//! A channel's statement day: the window of our book it is matched against. The card channel's
//! statements are written in UTC days, Alipay's and WeChat Pay's in Beijing days. A movement
//! within [`SETTLEMENT_GRACE`] of the day's end may land on the next day's statement, so it is
//! pending, not missing.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::channels::BEIJING;

/// How close to a statement day's end a movement may fall and still appear only on the next.
pub const SETTLEMENT_GRACE: Duration = Duration::minutes(10);

/// The instants `[from, to)` that `channel`'s statement of `date` covers.
pub fn window(channel: &str, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    let from = match channel {
        "alipay" | "wechat" => BEIJING
            .from_local_datetime(&midnight)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc()),
        _ => midnight.and_utc(),
    };
    (from, from + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chinese_channels_count_days_in_beijing_time() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
        let (from, to) = window("card", day);
        assert_eq!(from.to_rfc3339(), "2026-12-06T00:00:00+00:00");
        assert_eq!(to - from, Duration::days(1));
        let (from, _) = window("alipay", day);
        assert_eq!(from.to_rfc3339(), "2026-12-05T16:00:00+00:00");
    }
}
