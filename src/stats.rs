//! Trends: the register's cases counted over time by one of their fields, the incidents opened,
//! and how often the first answer came within the reply-time target. Pure: the register reads
//! the rows, this counts them.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;

/// The most buckets one answer spans.
pub const MAX_BUCKETS: i64 = 1000;

/// The width of one step of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    pub fn width(self) -> TimeDelta {
        match self {
            Bucket::Hour => TimeDelta::hours(1),
            Bucket::Day => TimeDelta::days(1),
        }
    }
}

/// The field the series are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Action,
    Route,
    Intent,
    Sentiment,
    Channel,
    Priority,
}

impl By {
    pub const NAMES: [&'static str; 6] = [
        "action",
        "route",
        "intent",
        "sentiment",
        "channel",
        "priority",
    ];
}

impl std::str::FromStr for By {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        Ok(match name {
            "action" => By::Action,
            "route" => By::Route,
            "intent" => By::Intent,
            "sentiment" => By::Sentiment,
            "channel" => By::Channel,
            "priority" => By::Priority,
            _ => return Err(()),
        })
    }
}

/// One case as the trends read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub recorded_at: DateTime<Utc>,
    pub action: String,
    pub priority: String,
    pub route: Option<String>,
    pub channel: Option<String>,
    pub sentiment: Option<String>,
    /// `None` for a case recorded before cases kept their intents.
    pub intents: Option<Vec<String>>,
    pub respond_by: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// One value of the field, counted in each bucket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// The value (`hide`, `sales`, `purchase_intent`, …); `none` when a case has none;
    /// for intents, `unknown` for cases recorded before cases kept them.
    pub key: String,
    pub total: u64,
    /// One count per bucket, in the order of `buckets`.
    pub counts: Vec<u64>,
}

/// Reply-time attainment of one route and priority: of the cases recorded in the range whose
/// first answer is due by now, how many were answered in time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attainment {
    pub route: Option<String>,
    pub priority: String,
    pub answered_in_time: u64,
    pub answered_late: u64,
    /// Due and not answered yet.
    pub overdue: u64,
    /// In time over all three; none when nothing was due.
    pub attainment: Option<f64>,
}

/// `GET /v1/stats`: the cases recorded in `[since, until)` by bucket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Trends {
    /// The range counted: the one asked for, cut to whole buckets.
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub bucket: Bucket,
    pub by: By,
    /// The start of each bucket (UTC).
    pub buckets: Vec<DateTime<Utc>>,
    /// Cases recorded in the range.
    pub cases: u64,
    /// Largest first.
    pub series: Vec<Series>,
    /// Incidents opened, one count per bucket.
    pub incidents: Vec<u64>,
    pub reply_times: Vec<Attainment>,
    /// More cases were in the range than one answer reads: the counts cover the newest.
    pub truncated: bool,
}

/// The range cut to whole buckets: `since` down, `until` up (the last bucket may reach past
/// now). `None` when it ends before it starts or spans more than [`MAX_BUCKETS`].
pub fn buckets(
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: Bucket,
) -> Option<Vec<DateTime<Utc>>> {
    let width = bucket.width();
    let start = since.duration_trunc(width).ok()?;
    if until <= since {
        return None;
    }
    let mut at = start;
    let mut all = Vec::new();
    while at < until {
        if all.len() as i64 == MAX_BUCKETS {
            return None;
        }
        all.push(at);
        at += width;
    }
    Some(all)
}

/// Counts `rows` into `buckets` by `by`, the incidents opened at `opened`, and the reply
/// times as they stand at `now`.
pub fn count(
    rows: &[Row],
    opened: &[DateTime<Utc>],
    buckets: &[DateTime<Utc>],
    (bucket, by): (Bucket, By),
    now: DateTime<Utc>,
) -> (Vec<Series>, Vec<u64>, Vec<Attainment>) {
    let slot = |at: DateTime<Utc>| -> Option<usize> {
        let first = *buckets.first()?;
        let i = usize::try_from((at - first).num_seconds() / bucket.width().num_seconds()).ok()?;
        (i < buckets.len()).then_some(i)
    };
    let mut by_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in rows {
        let Some(i) = slot(row.recorded_at) else {
            continue;
        };
        for key in keys(row, by) {
            by_key.entry(key).or_insert_with(|| vec![0; buckets.len()])[i] += 1;
        }
    }
    let mut series: Vec<Series> = by_key
        .into_iter()
        .map(|(key, counts)| Series {
            key,
            total: counts.iter().sum(),
            counts,
        })
        .collect();
    series.sort_by(|x, y| y.total.cmp(&x.total).then_with(|| x.key.cmp(&y.key)));
    let mut incidents = vec![0; buckets.len()];
    for at in opened {
        if let Some(i) = slot(*at) {
            incidents[i] += 1;
        }
    }
    (series, incidents, attainment(rows, now))
}

fn keys(row: &Row, by: By) -> Vec<String> {
    let one = |v: Option<&String>| vec![v.cloned().unwrap_or_else(|| "none".to_string())];
    match by {
        By::Action => vec![row.action.clone()],
        By::Priority => vec![row.priority.clone()],
        By::Route => one(row.route.as_ref()),
        By::Channel => one(row.channel.as_ref()),
        By::Sentiment => one(row.sentiment.as_ref()),
        By::Intent => match &row.intents {
            None => vec!["unknown".to_string()],
            Some(intents) if intents.is_empty() => one(None),
            Some(intents) => intents.clone(),
        },
    }
}

fn attainment(rows: &[Row], now: DateTime<Utc>) -> Vec<Attainment> {
    let mut by: BTreeMap<(Option<String>, String), [u64; 3]> = BTreeMap::new();
    for row in rows {
        let Some(due) = row.respond_by else {
            continue;
        };
        let slot = match row.answered_at {
            Some(at) if at <= due => 0,
            Some(_) => 1,
            None if due < now => 2,
            None => continue,
        };
        by.entry((row.route.clone(), row.priority.clone()))
            .or_default()[slot] += 1;
    }
    by.into_iter()
        .map(|((route, priority), [in_time, late, overdue])| {
            let all = in_time + late + overdue;
            Attainment {
                route,
                priority,
                answered_in_time: in_time,
                answered_late: late,
                overdue,
                attainment: (all > 0).then(|| in_time as f64 / all as f64),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn row(recorded: &str, action: &str, intents: &[&str]) -> Row {
        Row {
            recorded_at: at(recorded),
            action: action.into(),
            priority: "high".into(),
            route: Some("customer_service".into()),
            channel: None,
            sentiment: Some("negative".into()),
            intents: Some(intents.iter().map(|s| s.to_string()).collect()),
            respond_by: None,
            answered_at: None,
        }
    }

    #[test]
    fn buckets_are_whole_and_bounded() {
        let b = buckets(
            at("2026-12-01T10:30:00Z"),
            at("2026-12-01T13:05:00Z"),
            Bucket::Hour,
        );
        let b = b.expect("four hours");
        assert_eq!(b.len(), 4);
        assert_eq!(b[0], at("2026-12-01T10:00:00Z"));
        let year = buckets(
            at("2024-01-01T00:00:00Z"),
            at("2026-12-01T00:00:00Z"),
            Bucket::Hour,
        );
        assert!(year.is_none(), "too many buckets");
        let backwards = buckets(
            at("2026-12-02T00:00:00Z"),
            at("2026-12-01T00:00:00Z"),
            Bucket::Day,
        );
        assert!(backwards.is_none());
    }

    #[test]
    fn counts_by_field_per_bucket_and_reply_times() {
        let days = buckets(
            at("2026-12-01T00:00:00Z"),
            at("2026-12-03T00:00:00Z"),
            Bucket::Day,
        )
        .expect("two days");
        let mut answered = row("2026-12-02T08:00:00Z", "review", &[]);
        answered.respond_by = Some(at("2026-12-02T09:00:00Z"));
        answered.answered_at = Some(at("2026-12-02T08:30:00Z"));
        let mut late = row("2026-12-02T08:00:00Z", "hide", &["complaint"]);
        late.respond_by = Some(at("2026-12-02T09:00:00Z"));
        late.answered_at = Some(at("2026-12-02T10:00:00Z"));
        let mut overdue = row("2026-12-01T08:00:00Z", "hide", &["complaint", "question"]);
        overdue.respond_by = Some(at("2026-12-01T09:00:00Z"));
        let outside = row("2026-12-05T08:00:00Z", "hide", &[]);
        let rows = [answered, late, overdue, outside];
        let now = at("2026-12-02T12:00:00Z");
        let opened = [at("2026-12-02T07:00:00Z")];
        let (series, incidents, reply) =
            count(&rows, &opened, &days, (Bucket::Day, By::Action), now);
        assert_eq!(
            series,
            [
                Series {
                    key: "hide".into(),
                    total: 2,
                    counts: vec![1, 1]
                },
                Series {
                    key: "review".into(),
                    total: 1,
                    counts: vec![0, 1]
                },
            ]
        );
        assert_eq!(incidents, [0, 1]);
        assert_eq!(reply.len(), 1);
        assert_eq!(
            (
                reply[0].answered_in_time,
                reply[0].answered_late,
                reply[0].overdue
            ),
            (1, 1, 1)
        );
        assert_eq!(reply[0].attainment, Some(1.0 / 3.0));
        let (by_intent, _, _) = count(&rows, &[], &days, (Bucket::Day, By::Intent), now);
        let keys: Vec<(&str, u64)> = by_intent
            .iter()
            .map(|s| (s.key.as_str(), s.total))
            .collect();
        assert_eq!(keys, [("complaint", 2), ("none", 1), ("question", 1)]);
    }
}
