//! Reply-time targets: when a comment should be answered, counted in service hours.
//!
//! A policy gives a target per priority in minutes and the service hours of each weekday in a
//! time zone (`Europe/Helsinki` by default, daylight saving included). `respond_by` starts the
//! clock at the comment's `created_at`, or at the next opening when it arrives after hours, and
//! counts only minutes when the service is open: an urgent comment posted at 21:50 with a
//! 30-minute target and hours 7–22 is due at 07:20 the next morning.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::Priority;

/// Minutes in a day: a closing time of `24:00`.
const DAY: u16 = 24 * 60;

/// How far ahead to look for service hours; validation keeps at least one open day a week.
const HORIZON_DAYS: u64 = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub time_zone: Tz,
    /// Opening hours per weekday (`mon` … `sun`); a day left out or `"closed"` is closed.
    pub hours: BTreeMap<Day, Hours>,
    /// Minutes of service time to the first reply, per priority; a priority left out has none.
    pub minutes: Targets,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub urgent: Option<u32>,
    pub high: Option<u32>,
    pub normal: Option<u32>,
    pub low: Option<u32>,
}

impl Targets {
    fn get(self, priority: Priority) -> Option<u32> {
        match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Normal => self.normal,
            Priority::Low => self.low,
        }
    }
}

/// A weekday as policies write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<Weekday> for Day {
    fn from(w: Weekday) -> Self {
        match w {
            Weekday::Mon => Self::Mon,
            Weekday::Tue => Self::Tue,
            Weekday::Wed => Self::Wed,
            Weekday::Thu => Self::Thu,
            Weekday::Fri => Self::Fri,
            Weekday::Sat => Self::Sat,
            Weekday::Sun => Self::Sun,
        }
    }
}

/// Opening hours of one day, `"07:00-22:00"` or `"closed"` (so a channel can close a day the
/// default opens), in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hours {
    open: u16,
    close: u16,
}

impl FromStr for Hours {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "closed" {
            return Ok(Self { open: 0, close: 0 });
        }
        let bad = || format!("{s:?} is not opening hours like \"07:00-22:00\"");
        let (open, close) = s.split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && h * 60 + m <= DAY).then_some(h * 60 + m)
        };
        let (open, close) = (
            minutes(open).ok_or_else(bad)?,
            minutes(close).ok_or_else(bad)?,
        );
        if open >= close {
            return Err(format!("{s:?}: opening must come before closing"));
        }
        Ok(Self { open, close })
    }
}

impl TryFrom<String> for Hours {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.open == self.close {
            return f.write_str("closed");
        }
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.open), hm(self.close))
    }
}

impl From<Hours> for String {
    fn from(h: Hours) -> Self {
        h.to_string()
    }
}

impl Reply {
    /// Problems with the targets, as `path: message` lines.
    pub fn problems(&self) -> Vec<String> {
        let t = self.minutes;
        let mut problems: Vec<String> = [
            ("urgent", t.urgent),
            ("high", t.high),
            ("normal", t.normal),
            ("low", t.low),
        ]
        .into_iter()
        .filter(|(_, m)| *m == Some(0))
        .map(|(name, _)| format!("reply.minutes.{name}: must be at least 1"))
        .collect();
        let any_target = [t.urgent, t.high, t.normal, t.low]
            .iter()
            .any(Option::is_some);
        if any_target && self.hours.values().all(|h| h.open == h.close) {
            problems.push("reply.hours: a reply-time target needs at least one open day".into());
        }
        problems
    }

    /// When a comment of this priority, created at `created`, should have its first reply.
    pub fn respond_by(&self, priority: Priority, created: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut left = TimeDelta::minutes(self.minutes.get(priority)?.into());
        let mut from = created;
        let mut date = created.with_timezone(&self.time_zone).date_naive();
        for _ in 0..HORIZON_DAYS {
            if let Some(hours) = self.hours.get(&date.weekday().into()) {
                let open = self.instant(date, hours.open).max(from);
                let close = self.instant(date, hours.close);
                if open < close {
                    if left <= close - open {
                        return Some(open + left);
                    }
                    left -= close - open;
                }
            }
            date = date.checked_add_days(Days::new(1))?;
            from = self.instant(date, 0).max(from);
        }
        None
    }

    /// The instant of `minutes` after local midnight on `date`; a time skipped by a daylight-saving
    /// change is taken an hour later.
    fn instant(&self, date: NaiveDate, minutes: u16) -> DateTime<Utc> {
        let (date, minutes) = if minutes == DAY {
            (date.succ_opt().unwrap_or(date), 0)
        } else {
            (date, minutes)
        };
        let time = |m: u16| {
            NaiveTime::from_hms_opt(u32::from(m / 60) % 24, u32::from(m % 60), 0)
                .unwrap_or(NaiveTime::MIN)
        };
        let local = date.and_time(time(minutes));
        self.time_zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.time_zone
                    .from_local_datetime(&(local + TimeDelta::hours(1)))
                    .earliest()
            })
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(hours: &str, days: &[Day]) -> Reply {
        Reply {
            time_zone: chrono_tz::Europe::Helsinki,
            hours: days
                .iter()
                .map(|d| (*d, hours.parse().expect("hours")))
                .collect(),
            minutes: Targets {
                urgent: Some(30),
                high: Some(120),
                normal: None,
                low: None,
            },
        }
    }

    const EVERY_DAY: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn inside_hours_adds_the_target() {
        let r = reply("07:00-22:00", &EVERY_DAY);
        // 12:00 Helsinki (UTC+2 in winter) + 30 min.
        assert_eq!(
            r.respond_by(Priority::Urgent, at("2026-11-26T10:00:00Z")),
            Some(at("2026-11-26T10:30:00Z"))
        );
    }

    #[test]
    fn the_clock_stops_at_closing_and_runs_on_at_opening() {
        let r = reply("07:00-22:00", &EVERY_DAY);
        // 21:50 local: 10 minutes today, 20 tomorrow from 07:00.
        assert_eq!(
            r.respond_by(Priority::Urgent, at("2026-11-26T19:50:00Z")),
            Some(at("2026-11-27T05:20:00Z"))
        );
        // 02:00 local, before opening: due 07:30.
        assert_eq!(
            r.respond_by(Priority::Urgent, at("2026-11-26T00:00:00Z")),
            Some(at("2026-11-26T05:30:00Z"))
        );
    }

    #[test]
    fn closed_days_are_skipped() {
        let weekdays = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
        let mut r = reply("08:00-16:00", &weekdays);
        r.hours.insert(Day::Sun, "closed".parse().expect("closed"));
        // Saturday 2026-11-28 noon: nothing until Monday 08:00, due 10:00 for high.
        assert_eq!(
            r.respond_by(Priority::High, at("2026-11-28T10:00:00Z")),
            Some(at("2026-11-30T08:00:00Z"))
        );
    }

    #[test]
    fn daylight_saving_is_respected() {
        let r = reply("07:00-22:00", &EVERY_DAY);
        // Summer time (UTC+3): 07:00 local is 04:00 UTC.
        assert_eq!(
            r.respond_by(Priority::Urgent, at("2026-07-01T03:00:00Z")),
            Some(at("2026-07-01T04:30:00Z"))
        );
    }

    #[test]
    fn round_the_clock_and_no_target() {
        let r = reply("00:00-24:00", &EVERY_DAY);
        // Crossing midnight does not pause the clock.
        assert_eq!(
            r.respond_by(Priority::High, at("2026-11-26T21:30:00Z")),
            Some(at("2026-11-26T23:30:00Z"))
        );
        assert_eq!(
            r.respond_by(Priority::Low, at("2026-11-26T21:30:00Z")),
            None
        );
    }

    #[test]
    fn hours_are_parsed_strictly() {
        assert_eq!(
            "7:30-24:00".parse::<Hours>(),
            Ok(Hours {
                open: 450,
                close: DAY
            })
        );
        assert_eq!(
            "closed".parse::<Hours>().map(|h| h.to_string()).as_deref(),
            Ok("closed")
        );
        for bad in ["22:00-07:00", "07:00", "07:60-08:00", "25:00-26:00", "x-y"] {
            assert!(bad.parse::<Hours>().is_err(), "{bad}");
        }
    }

    #[test]
    fn problems_are_reported_with_their_path() {
        let mut r = reply("07:00-22:00", &[]);
        r.minutes.high = Some(0);
        assert_eq!(
            r.problems(),
            [
                "reply.minutes.high: must be at least 1",
                "reply.hours: a reply-time target needs at least one open day"
            ]
        );
    }
}
