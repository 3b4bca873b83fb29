//! Incidents: many authors reporting the same problem at once (an outage, a double charge),
//! found by grouping recent problem reports on the key words they share.
//!
//! A comment is a report when it carries an urgency cue or a `problem_report` or `complaint`
//! intent. Its key words are its words of three or more letters that are not stop words (the
//! ISO lists for Finnish and English), cut to their first five letters so that inflected forms
//! meet (`sovellus`, `sovelluksessa` → `sovel`; `charged`, `charge` → `charg`). A report joins
//! the group with which it shares the most of the group's tying words (those that at least
//! [`TYING`] of the group's reports carry), when it shares at least the policy's
//! `shared_words` and their urgency categories do not differ; otherwise it starts a group. A
//! group whose reports within the policy's window come from `authors` different authors
//! becomes an incident: the comment that tips it gets [`Sighting::Opens`], and the caller opens
//! the incident in the register and tells this memory its id. Later reports that share
//! `shared_words` of the incident's words join it until it is closed.
//!
//! No I/O. Memory is bounded: at most [`GROUPS`] groups, each holding its last [`MEMBERS`]
//! reports, and [`INCIDENTS`] open incidents; an inverted index from key word to group finds
//! the candidates, so a report is compared only with groups that share a word with it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::normalize::NormalizedText;
use crate::signals::intents::{Intent, IntentScore};
use crate::signals::{Category, Signals};

/// Groups below an incident kept at once; the stalest goes first.
pub const GROUPS: usize = 4096;
/// Reports a group keeps (the newest): more than the most authors a policy may ask for.
pub const MEMBERS: usize = 64;
/// Open incidents kept for matching; the one seen least recently goes first.
pub const INCIDENTS: usize = 1024;
/// The share of a group's reports a word must be in to tie it together.
pub const TYING: f32 = 0.3;
/// Letters of a word its key keeps.
const STEM: usize = 5;
/// Key words a report keeps, the first in the text.
const MAX_WORDS: usize = 24;
/// Words an incident keeps to tie later reports to it and to name it.
const INCIDENT_WORDS: usize = 8;

/// What a policy says makes an incident.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// How far back reports count together.
    pub window_minutes: u32,
    /// Different authors whose reports make an incident.
    pub authors: u32,
    /// Key words a report must share with the others.
    pub shared_words: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            window_minutes: 120,
            authors: 5,
            shared_words: 2,
        }
    }
}

impl Rules {
    /// What is wrong with the rules, with the path of each field.
    pub fn problems(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if !(1..=10_080).contains(&self.window_minutes) {
            errors.push("incidents.window_minutes: 1 to 10080 (a week)".to_string());
        }
        if !(2..=MEMBERS as u32 / 2).contains(&self.authors) {
            errors.push(format!("incidents.authors: 2 to {}", MEMBERS / 2));
        }
        if !(1..=8).contains(&self.shared_words) {
            errors.push("incidents.shared_words: 1 to 8".to_string());
        }
        errors
    }
}

static STOP_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    ["fi", "en"]
        .into_iter()
        .filter_map(stop_words::lookup)
        .flatten()
        .copied()
        .collect()
});

/// A word's key: its first [`STEM`] letters.
fn stem(word: &str) -> String {
    word.chars().take(STEM).collect()
}

/// One comment as a report of a problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Key words with the first form each came in, in text order.
    pub words: Vec<(String, String)>,
    pub category: Option<Category>,
    pub author: u64,
    pub channel: Option<String>,
    pub at: DateTime<Utc>,
}

impl Report {
    /// The comment as a report, when it reports a problem and has key words.
    pub fn of(
        text: &NormalizedText,
        signals: &Signals,
        intents: &[IntentScore],
        author: &str,
        channel: Option<&str>,
        at: DateTime<Utc>,
    ) -> Option<Self> {
        let problem = intents
            .iter()
            .any(|i| matches!(i.intent, Intent::ProblemReport | Intent::Complaint));
        if signals.urgency.is_empty() && !problem {
            return None;
        }
        let mut words: Vec<(String, String)> = Vec::new();
        for token in text.words() {
            let word = &token.text;
            if word.chars().count() < 3
                || !word.chars().all(char::is_alphabetic)
                || STOP_WORDS.contains(word.as_str())
            {
                continue;
            }
            let key = stem(word);
            if !words.iter().any(|(k, _)| *k == key) {
                words.push((key, word.clone()));
            }
            if words.len() == MAX_WORDS {
                break;
            }
        }
        let category = signals
            .urgency
            .iter()
            .max_by(|x, y| x.weight.total_cmp(&y.weight))
            .map(|c| c.category);
        (!words.is_empty()).then(|| Self {
            words,
            category,
            author: xxh3_64(author.as_bytes()),
            channel: channel.map(String::from),
            at,
        })
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|(k, _)| k.as_str())
    }
}

/// An incident as the register opens it.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    pub group: u64,
    /// Its tying words, the most carried first, each in its first form.
    pub words: Vec<String>,
    pub category: Option<Category>,
    pub channels: Vec<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Reports in the window, this one included.
    pub reports: u32,
    pub authors: u32,
    /// Earlier reports recorded as cases, to link to the incident.
    pub cases: Vec<i64>,
}

impl Opening {
    /// A name for people until a moderator gives a better one: the category and the words.
    pub fn title(&self) -> String {
        let words = self.words.iter().take(3).cloned().collect::<Vec<_>>();
        match self.category {
            Some(c) => format!("{}: {}", c.as_str(), words.join(", ")),
            None => words.join(", "),
        }
    }
}

/// What a report is to the incidents.
#[derive(Debug, Clone, PartialEq)]
pub enum Sighting {
    /// One of a group still below an incident.
    Member { group: u64 },
    /// It tips its group into an incident, which the caller opens.
    Opens(Opening),
    /// It joins an incident already open.
    Joins { incident: i64, words: Vec<String> },
}

#[derive(Debug)]
struct Member {
    author: u64,
    at: DateTime<Utc>,
    keys: Vec<String>,
    category: Option<Category>,
    case: Option<i64>,
}

#[derive(Debug)]
struct Group {
    members: VecDeque<Member>,
    /// How many members carry each key, with its first form.
    counts: HashMap<String, (u32, String)>,
    category: Option<Category>,
    channels: Vec<String>,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    /// Set once the group is an incident (or while the caller opens it: `Some(0)`).
    incident: Option<i64>,
    /// The incident's words, fixed when it opened.
    words: Vec<(String, String)>,
    /// Cases noted while the incident was being opened, to link once it has its id.
    late: Vec<i64>,
}

impl Group {
    /// Words at least [`TYING`] of the reports carry, and at least two once there are two: a
    /// group is tied by what its reports share, not by any one report's words.
    fn tying(&self) -> impl Iterator<Item = &str> {
        let n = self.members.len();
        let least = ((TYING * n as f32).ceil() as usize).max(n.min(2)) as u32;
        self.counts
            .iter()
            .filter(move |(_, (n, _))| *n >= least)
            .map(|(k, _)| k.as_str())
    }

    fn shared(&self, report: &Report) -> usize {
        if self.incident.is_some() {
            let words: HashSet<&str> = self.words.iter().map(|(k, _)| k.as_str()).collect();
            return report.keys().filter(|k| words.contains(k)).count();
        }
        let tying: HashSet<&str> = self.tying().collect();
        report.keys().filter(|k| tying.contains(k)).count()
    }

    fn add(&mut self, report: &Report, window: TimeDelta) {
        self.members.push_back(Member {
            author: report.author,
            at: report.at,
            keys: report.keys().map(String::from).collect(),
            category: report.category,
            case: None,
        });
        for (key, form) in &report.words {
            self.counts
                .entry(key.clone())
                .or_insert_with(|| (0, form.clone()))
                .0 += 1;
        }
        if let Some(channel) = &report.channel
            && !self.channels.contains(channel)
        {
            self.channels.push(channel.clone());
        }
        self.category = self.category.or(report.category);
        self.last_seen = self.last_seen.max(report.at);
        self.prune(report.at - window);
    }

    /// Forgets reports older than `since`, and the oldest beyond [`MEMBERS`].
    fn prune(&mut self, since: DateTime<Utc>) {
        while self
            .members
            .front()
            .is_some_and(|m| m.at < since || self.members.len() > MEMBERS)
        {
            let Some(gone) = self.members.pop_front() else {
                break;
            };
            for key in gone.keys {
                if let Some((n, _)) = self.counts.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        self.counts.remove(&key);
                    }
                }
            }
        }
        if let Some(first) = self.members.front() {
            self.first_seen = self.first_seen.max(first.at);
        }
    }

    fn authors(&self) -> u32 {
        let distinct: HashSet<u64> = self.members.iter().map(|m| m.author).collect();
        distinct.len() as u32
    }

    fn opening(&self, group: u64) -> Opening {
        let mut words: Vec<(&String, &(u32, String))> = self
            .counts
            .iter()
            .filter(|(k, _)| self.tying().any(|t| t == k.as_str()))
            .collect();
        words.sort_by(|x, y| y.1.0.cmp(&x.1.0).then_with(|| x.0.cmp(y.0)));
        Opening {
            group,
            words: words
                .iter()
                .take(INCIDENT_WORDS)
                .map(|(_, (_, form))| form.clone())
                .collect(),
            category: self.category,
            channels: self.channels.clone(),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            reports: self.members.len() as u32,
            authors: self.authors(),
            cases: self.members.iter().filter_map(|m| m.case).collect(),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    groups: HashMap<u64, Group>,
    /// Key word → groups that carry it (some may be gone; checked when read).
    index: HashMap<String, Vec<u64>>,
    next: u64,
}

/// Recent reports and open incidents, shared by every request.
#[derive(Debug, Default)]
pub struct Memory {
    inner: Mutex<Inner>,
}

impl Memory {
    /// Restores an open incident (at start, from the register; or opened again) so later
    /// reports can join it. One the memory holds already stays as it is.
    pub fn restore(&self, incident: i64, words: &[String], category: Option<Category>) {
        let mut inner = self.lock();
        if inner.groups.values().any(|g| g.incident == Some(incident)) {
            return;
        }
        let id = inner.new_group(GroupSeed {
            incident: Some(incident),
            words: words.iter().map(|w| (stem(w), w.clone())).collect(),
            category,
            at: Utc::now(),
        });
        inner.index_words(id);
    }

    /// Where `report` stands under `rules`: in a group, opening an incident, or joining one.
    pub fn observe(&self, report: &Report, rules: &Rules) -> Sighting {
        let window = TimeDelta::minutes(rules.window_minutes.into());
        let mut inner = self.lock();
        let best = inner.best(report, rules, window);
        let id = best.unwrap_or_else(|| {
            inner.new_group(GroupSeed {
                incident: None,
                words: Vec::new(),
                category: report.category,
                at: report.at,
            })
        });
        let Some(group) = inner.groups.get_mut(&id) else {
            return Sighting::Member { group: id };
        };
        if let Some(incident) = group.incident.filter(|i| *i > 0) {
            group.last_seen = group.last_seen.max(report.at);
            let words = group.words.iter().map(|(_, w)| w.clone()).collect();
            return Sighting::Joins { incident, words };
        }
        group.add(report, window);
        let opens = group.incident.is_none() && group.authors() >= rules.authors;
        let mut opening = None;
        if opens {
            group.incident = Some(0);
            let o = group.opening(id);
            group.words = o.words.iter().map(|w| (stem(w), w.clone())).collect();
            opening = Some((o, group.category));
        }
        for key in report.keys() {
            let ids = inner.index.entry(key.to_string()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        match opening {
            Some((mut o, category)) => {
                let words: Vec<String> = o.words.iter().map(|w| stem(w)).collect();
                let shared = rules.shared_words as usize;
                o.cases.extend(inner.adopt(id, &words, category, shared));
                Sighting::Opens(o)
            }
            None => Sighting::Member { group: id },
        }
    }

    /// A member's case, once recorded: the incident's id if its group opened one meanwhile
    /// (the caller links the case), otherwise `None` and the case is linked when it opens.
    pub fn noted(&self, group: u64, case: i64) -> Option<i64> {
        let mut inner = self.lock();
        let g = inner.groups.get_mut(&group)?;
        match g.incident {
            Some(0) => {
                g.late.push(case);
                None
            }
            Some(incident) => Some(incident),
            None => {
                if let Some(m) = g.members.iter_mut().rev().find(|m| m.case.is_none()) {
                    m.case = Some(case);
                }
                None
            }
        }
    }

    /// The register opened the group's incident as `incident`: later reports join it. The
    /// cases noted while it opened, to link.
    pub fn opened(&self, group: u64, incident: i64) -> Vec<i64> {
        let mut inner = self.lock();
        let Some(g) = inner.groups.get_mut(&group) else {
            return Vec::new();
        };
        g.incident = Some(incident);
        g.members.clear();
        g.counts.clear();
        let late = std::mem::take(&mut g.late);
        inner.index_words(group);
        late
    }

    /// Opening failed: the group goes back to counting.
    pub fn not_opened(&self, group: u64) {
        if let Some(g) = self.lock().groups.get_mut(&group) {
            g.incident = None;
            g.words.clear();
        }
    }

    /// A moderator closed the incident: later reports no longer join it.
    pub fn closed(&self, incident: i64) {
        self.lock()
            .groups
            .retain(|_, g| g.incident != Some(incident));
    }

    /// A moderator merged incident `from` into `into`: later reports of either join `into`.
    pub fn merged(&self, from: i64, into: i64) {
        for g in self.lock().groups.values_mut() {
            if g.incident == Some(from) {
                g.incident = Some(into);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while the lock was held leaves counts that are still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct GroupSeed {
    incident: Option<i64>,
    words: Vec<(String, String)>,
    category: Option<Category>,
    at: DateTime<Utc>,
}

impl Inner {
    fn new_group(&mut self, seed: GroupSeed) -> u64 {
        if self.groups.len() >= GROUPS + INCIDENTS {
            self.evict();
        }
        self.next += 1;
        let id = self.next;
        self.groups.insert(
            id,
            Group {
                members: VecDeque::new(),
                counts: HashMap::new(),
                category: seed.category,
                channels: Vec::new(),
                first_seen: seed.at,
                last_seen: seed.at,
                incident: seed.incident,
                words: seed.words,
                late: Vec::new(),
            },
        );
        id
    }

    fn index_words(&mut self, id: u64) {
        let Some(g) = self.groups.get(&id) else {
            return;
        };
        let keys: Vec<String> = g.words.iter().map(|(k, _)| k.clone()).collect();
        for key in keys {
            let ids = self.index.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }

    /// The group `report` belongs to: the one sharing the most words, at least the rules'.
    fn best(&mut self, report: &Report, rules: &Rules, window: TimeDelta) -> Option<u64> {
        let mut candidates: Vec<u64> = report
            .keys()
            .filter_map(|k| self.index.get(k))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let since = report.at - window;
        candidates
            .into_iter()
            .filter_map(|id| {
                let g = self.groups.get(&id)?;
                let live = g.incident.is_some() || g.last_seen >= since;
                let compatible = match (g.category, report.category) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                let shared = g.shared(report);
                (live && compatible && shared >= rules.shared_words as usize).then_some((
                    shared,
                    g.incident.is_some(),
                    g.last_seen,
                    id,
                ))
            })
            .max()
            .map(|(_, _, _, id)| id)
    }

    /// The recorded reports of other groups that share `shared` of a new incident's words
    /// (a report that came before the incident's words were clear may have joined another
    /// group): taken out of their groups, their cases to link to the incident.
    fn adopt(
        &mut self,
        incident: u64,
        words: &[String],
        category: Option<Category>,
        shared: usize,
    ) -> Vec<i64> {
        let mut groups: Vec<u64> = words
            .iter()
            .filter_map(|w| self.index.get(w))
            .flatten()
            .copied()
            .filter(|id| *id != incident)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        let mut cases = Vec::new();
        for id in groups {
            let Some(g) = self.groups.get_mut(&id).filter(|g| g.incident.is_none()) else {
                continue;
            };
            let fits = |m: &Member| {
                (m.category.is_none() || category.is_none() || m.category == category)
                    && m.case.is_some()
                    && m.keys.iter().filter(|k| words.contains(k)).count() >= shared
            };
            let (taken, kept): (Vec<Member>, Vec<Member>) = g.members.drain(..).partition(fits);
            g.members = kept.into();
            for m in taken {
                for key in &m.keys {
                    if let Some((n, _)) = g.counts.get_mut(key) {
                        *n = n.saturating_sub(1);
                    }
                }
                cases.extend(m.case);
            }
            g.counts.retain(|_, (n, _)| *n > 0);
        }
        cases
    }

    /// Makes room: groups below an incident seen least recently first, then incidents.
    fn evict(&mut self) {
        let mut order: Vec<(bool, DateTime<Utc>, u64)> = self
            .groups
            .iter()
            .map(|(id, g)| (g.incident.is_some(), g.last_seen, *id))
            .collect();
        order.sort();
        for (_, _, id) in order.into_iter().take(GROUPS / 4) {
            self.groups.remove(&id);
        }
        let groups = &self.groups;
        self.index.retain(|_, ids| {
            ids.retain(|id| groups.contains_key(id));
            !ids.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Span;
    use crate::normalize::normalize;
    use crate::signals::Cue;

    fn report(text: &str, author: &str, category: Option<Category>, minutes: i64) -> Report {
        let signals = Signals {
            urgency: category
                .map(|category| Cue {
                    category,
                    weight: 0.6,
                    span: Span::new(0, 1),
                    words: "x".into(),
                })
                .into_iter()
                .collect(),
            ..Signals::default()
        };
        let at = "2026-12-02T10:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time")
            + TimeDelta::minutes(minutes);
        Report::of(
            &normalize(text),
            &signals,
            &[],
            author,
            Some("facebook"),
            at,
        )
        .expect("report")
    }

    const RULES: Rules = Rules {
        window_minutes: 60,
        authors: 3,
        shared_words: 2,
    };
    const OUTAGE: Option<Category> = Some(Category::Outage);

    fn opened(memory: &Memory, texts: &[(&str, &str, i64)]) -> Option<Opening> {
        let mut opening = None;
        for (i, (text, author, minutes)) in texts.iter().enumerate() {
            let sighting = memory.observe(&report(text, author, OUTAGE, *minutes), &RULES);
            match sighting {
                Sighting::Member { group } => {
                    assert_eq!(memory.noted(group, i as i64 + 1), None);
                }
                Sighting::Opens(o) => opening = Some(o),
                Sighting::Joins { .. } => panic!("no incident is open yet"),
            }
        }
        opening
    }

    #[test]
    fn words_are_cut_to_their_stem_and_stop_words_left_out() {
        let r = report(
            "Sovellus ei toimi, sovelluksessa on vika ja se on rikki",
            "a",
            OUTAGE,
            0,
        );
        let keys: Vec<&str> = r.keys().collect();
        assert_eq!(keys, ["sovel", "toimi", "vika", "rikki"]);
        let quiet = Report::of(
            &normalize("Kiitos, hyvää päivää"),
            &Signals::default(),
            &[],
            "a",
            None,
            Utc::now(),
        );
        assert!(quiet.is_none(), "no cue, no problem intent: no report");
    }

    #[test]
    fn enough_authors_within_the_window_open_an_incident_with_every_case() {
        let memory = Memory::default();
        let same_author = [
            ("Pikamaksu ei toimi OmaPankissa", "a", 0),
            ("OmaPankki pikamaksu ei toimi taas", "a", 1),
            ("pikamaksu OmaPankissa ei toimi vieläkään", "b", 2),
        ];
        assert!(
            opened(&memory, &same_author).is_none(),
            "two authors are not three"
        );
        let third = memory.observe(
            &report("Miksi OmaPankki Pikamaksu ei toimi", "c", OUTAGE, 3),
            &RULES,
        );
        let Sighting::Opens(opening) = third else {
            panic!("the third author opens it: {third:?}");
        };
        assert_eq!(opening.cases, [1, 2, 3]);
        assert_eq!((opening.authors, opening.reports), (3, 4));
        assert_eq!(opening.title(), "outage: omapankissa, pikamaksu, toimi");
        assert_eq!(memory.opened(opening.group, 7), Vec::<i64>::new());
        let later = memory.observe(&report("omapankki pikamaksu rikki", "d", OUTAGE, 4), &RULES);
        assert!(
            matches!(later, Sighting::Joins { incident: 7, .. }),
            "{later:?}"
        );
        let other = memory.observe(&report("Laskun eräpäivä siirtyi", "e", OUTAGE, 5), &RULES);
        assert!(matches!(other, Sighting::Member { .. }), "{other:?}");
    }

    #[test]
    fn reports_outside_the_window_or_of_another_category_do_not_count() {
        let memory = Memory::default();
        let spread = [
            ("Pikamaksu ei toimi OmaPankissa", "a", 0),
            ("OmaPankki pikamaksu ei toimi taas", "b", 90),
            ("pikamaksu OmaPankissa ei toimi vieläkään", "c", 180),
        ];
        assert!(opened(&memory, &spread).is_none(), "an hour apart each");
        let money = memory.observe(
            &report(
                "OmaPankki pikamaksu veloitti kahdesti",
                "d",
                Some(Category::Money),
                181,
            ),
            &RULES,
        );
        assert!(matches!(money, Sighting::Member { .. }), "{money:?}");
    }

    #[test]
    fn restored_incidents_take_reports_and_closed_or_merged_ones_hand_them_on() {
        let memory = Memory::default();
        let words = ["pikamaksu".to_string(), "omapankissa".to_string()];
        memory.restore(3, &words, OUTAGE);
        memory.restore(3, &words, OUTAGE);
        let joins = memory.observe(
            &report("OmaPankissa pikamaksu jumissa", "a", OUTAGE, 0),
            &RULES,
        );
        assert!(
            matches!(joins, Sighting::Joins { incident: 3, .. }),
            "{joins:?}"
        );
        memory.restore(4, &["lasku".to_string(), "eräpäivä".to_string()], OUTAGE);
        memory.merged(4, 3);
        let merged = memory.observe(&report("lasku eräpäivä väärin", "b", OUTAGE, 1), &RULES);
        assert!(
            matches!(merged, Sighting::Joins { incident: 3, .. }),
            "{merged:?}"
        );
        memory.closed(3);
        let closed = memory.observe(
            &report("OmaPankissa pikamaksu jumissa", "c", OUTAGE, 2),
            &RULES,
        );
        assert!(matches!(closed, Sighting::Member { .. }), "{closed:?}");
    }
}
