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
/// The longest window a policy may set (a week), in minutes.
const MAX_WINDOW_MINUTES: i64 = 10_080;
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
        if !(1..=MAX_WINDOW_MINUTES).contains(&i64::from(self.window_minutes)) {
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
    /// A comment without an author counts as one anonymous author per channel, so anonymous
    /// comments alone cannot make an incident look widely reported. Words of the customer's
    /// personal data are never key words.
    pub fn of(
        text: &NormalizedText,
        signals: &Signals,
        intents: &[IntentScore],
        author: Option<&str>,
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
                || signals
                    .personal_data
                    .iter()
                    .any(|p| p.span.overlaps(token.span))
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
        let who = match author {
            Some(id) => format!("author:{id}"),
            None => format!("anonymous:{}", channel.unwrap_or_default()),
        };
        (!words.is_empty()).then(|| Self {
            words,
            category,
            author: xxh3_64(who.as_bytes()),
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
    /// One of a group still below an incident: `member` names it for [`Memory::noted`].
    Member { group: u64, member: u64 },
    /// It tips its group into an incident, which the caller opens, then calls
    /// [`Memory::opened`] (or [`Memory::not_opened`] if it could not).
    Opens(Opening),
    /// It joins an incident already open.
    Joins { incident: i64 },
}

#[derive(Debug)]
struct Member {
    id: u64,
    author: u64,
    at: DateTime<Utc>,
    keys: Vec<String>,
    category: Option<Category>,
    case: Option<i64>,
}

/// Where a group stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Standing {
    Counting,
    /// A caller is opening its incident in the register.
    Opening,
    Incident(i64),
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
    standing: Standing,
    /// The incident's key words, fixed when it opened.
    words: Vec<String>,
    /// Members' cases noted while the incident was being opened, to link once it has its id.
    late: Vec<(u64, i64)>,
}

impl Group {
    /// How many members a word must be in to tie the group: [`TYING`] of them, and at least
    /// two once there are two, so a group is tied by what its reports share, not by any one
    /// report's words.
    fn least(&self) -> u32 {
        let n = self.members.len();
        ((TYING * n as f32).ceil() as usize).max(n.min(2)) as u32
    }

    /// The report's keys that tie it to the group.
    fn shared(&self, report: &Report) -> usize {
        match self.standing {
            Standing::Counting => {
                let least = self.least();
                report
                    .keys()
                    .filter(|k| self.counts.get(*k).is_some_and(|(n, _)| *n >= least))
                    .count()
            }
            _ => report
                .keys()
                .filter(|k| self.words.iter().any(|w| w == k))
                .count(),
        }
    }

    fn live(&self, since: DateTime<Utc>) -> bool {
        self.standing != Standing::Counting || self.last_seen >= since
    }

    /// Adds the report; the keys no member carries any more, to take out of the index.
    fn add(&mut self, id: u64, report: &Report, window: TimeDelta) -> Vec<String> {
        self.members.push_back(Member {
            id,
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
        let since = report.at - window;
        let mut gone = Vec::new();
        while self
            .members
            .front()
            .is_some_and(|m| m.at < since || self.members.len() > MEMBERS)
        {
            if let Some(m) = self.members.pop_front() {
                gone.extend(self.forget(&m.keys));
            }
        }
        if let Some(first) = self.members.front() {
            self.first_seen = self.first_seen.max(first.at);
        }
        gone
    }

    /// Takes a member's keys out of the counts; those no member carries now.
    fn forget(&mut self, keys: &[String]) -> Vec<String> {
        let mut gone = Vec::new();
        for key in keys {
            if let Some((n, _)) = self.counts.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.counts.remove(key);
                    gone.push(key.clone());
                }
            }
        }
        gone
    }

    fn authors(&self) -> u32 {
        let distinct: HashSet<u64> = self.members.iter().map(|m| m.author).collect();
        distinct.len() as u32
    }

    fn opening(&self, group: u64) -> Opening {
        let least = self.least();
        let mut words: Vec<(&String, &(u32, String))> = self
            .counts
            .iter()
            .filter(|(_, (n, _))| *n >= least)
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
    /// Key word → the groups that carry it now.
    index: HashMap<String, Vec<u64>>,
    /// Names groups and members.
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
        let standing = Standing::Incident(incident);
        if inner.groups.values().any(|g| g.standing == standing) {
            return;
        }
        let id = inner.new_group(category, Utc::now());
        let keys: Vec<String> = words.iter().map(|w| stem(w)).collect();
        if let Some(g) = inner.groups.get_mut(&id) {
            g.standing = standing;
            g.words = keys.clone();
        }
        inner.index_keys(id, keys);
    }

    /// Where `report` stands under `rules`: in a group, opening an incident, or joining one.
    pub fn observe(&self, report: &Report, rules: &Rules) -> Sighting {
        let window = TimeDelta::minutes(rules.window_minutes.into());
        let mut inner = self.lock();
        let found = inner.best(report, rules, report.at - window);
        let id = found.unwrap_or_else(|| inner.new_group(report.category, report.at));
        inner.next += 1;
        let member = inner.next;
        let Some(group) = inner.groups.get_mut(&id) else {
            return Sighting::Member { group: id, member };
        };
        if let Standing::Incident(incident) = group.standing {
            group.last_seen = group.last_seen.max(report.at);
            return Sighting::Joins { incident };
        }
        let gone = group.add(member, report, window);
        let sighting = if group.standing == Standing::Counting && group.authors() >= rules.authors {
            group.standing = Standing::Opening;
            let opening = group.opening(id);
            group.words = opening.words.iter().map(|w| stem(w)).collect();
            Sighting::Opens(opening)
        } else {
            Sighting::Member { group: id, member }
        };
        inner.unindex(id, &gone);
        inner.index_keys(id, report.keys().map(String::from).collect());
        sighting
    }

    /// A member's case, once recorded: the incident's id if its group opened one meanwhile
    /// (the caller links the case), otherwise `None` and the case is linked when it opens.
    pub fn noted(&self, group: u64, member: u64, case: i64) -> Option<i64> {
        let mut inner = self.lock();
        let g = inner.groups.get_mut(&group)?;
        match g.standing {
            Standing::Opening => {
                g.late.push((member, case));
                None
            }
            Standing::Incident(incident) => Some(incident),
            Standing::Counting => {
                if let Some(m) = g.members.iter_mut().find(|m| m.id == member) {
                    m.case = Some(case);
                }
                None
            }
        }
    }

    /// The register opened the group's incident as `incident`: later reports join it. The
    /// cases to link now: those noted while it opened, and the recorded reports of other
    /// groups that share `shared` of its words (a report that came before the incident's words
    /// were clear may have gone to another group), taken out of those groups.
    pub fn opened(&self, group: u64, incident: i64, rules: &Rules) -> Vec<i64> {
        let mut inner = self.lock();
        let Some(g) = inner.groups.get_mut(&group) else {
            return Vec::new();
        };
        g.standing = Standing::Incident(incident);
        let mut cases: Vec<i64> = g.late.drain(..).map(|(_, case)| case).collect();
        let (words, category) = (g.words.clone(), g.category);
        let since = g.last_seen - TimeDelta::minutes(rules.window_minutes.into());
        let counted: Vec<String> = g.counts.keys().cloned().collect();
        g.members.clear();
        g.counts.clear();
        inner.unindex(group, &counted);
        inner.index_keys(group, words.clone());
        let shared = rules.shared_words as usize;
        cases.extend(inner.adopt(group, &words, (category, since), shared));
        cases
    }

    /// Opening failed: the group goes back to counting, the cases noted meanwhile kept.
    pub fn not_opened(&self, group: u64) {
        if let Some(g) = self.lock().groups.get_mut(&group) {
            g.standing = Standing::Counting;
            g.words.clear();
            for (member, case) in std::mem::take(&mut g.late) {
                if let Some(m) = g.members.iter_mut().find(|m| m.id == member) {
                    m.case = Some(case);
                }
            }
        }
    }

    /// A moderator closed the incident: later reports no longer join it.
    pub fn closed(&self, incident: i64) {
        let mut inner = self.lock();
        let gone: Vec<u64> = inner
            .groups
            .iter()
            .filter(|(_, g)| g.standing == Standing::Incident(incident))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            inner.remove(id);
        }
    }

    /// A moderator merged incident `from` into `into`: later reports of either join `into`.
    pub fn merged(&self, from: i64, into: i64) {
        for g in self.lock().groups.values_mut() {
            if g.standing == Standing::Incident(from) {
                g.standing = Standing::Incident(into);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while the lock was held leaves counts that are still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn new_group(&mut self, category: Option<Category>, at: DateTime<Utc>) -> u64 {
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
                category,
                channels: Vec::new(),
                first_seen: at,
                last_seen: at,
                standing: Standing::Counting,
                words: Vec::new(),
                late: Vec::new(),
            },
        );
        id
    }

    fn index_keys(&mut self, id: u64, keys: Vec<String>) {
        for key in keys {
            let ids = self.index.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }

    fn unindex(&mut self, id: u64, keys: &[String]) {
        for key in keys {
            if let Some(ids) = self.index.get_mut(key) {
                ids.retain(|g| *g != id);
                if ids.is_empty() {
                    self.index.remove(key);
                }
            }
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(g) = self.groups.remove(&id) {
            let keys: Vec<String> = g.counts.into_keys().chain(g.words).collect();
            self.unindex(id, &keys);
        }
    }

    /// The group `report` belongs to: the live one sharing the most words, at least the
    /// rules'. Groups found gone stale on the way are dropped.
    fn best(&mut self, report: &Report, rules: &Rules, since: DateTime<Utc>) -> Option<u64> {
        let mut candidates: Vec<u64> = report
            .keys()
            .filter_map(|k| self.index.get(k))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut stale = Vec::new();
        let mut best = None;
        for id in candidates {
            let Some(g) = self.groups.get(&id) else {
                continue;
            };
            if !g.live(since) {
                // Gone for good only past the longest window a policy may set: another
                // channel's policy may still count it.
                if g.last_seen < report.at - TimeDelta::minutes(MAX_WINDOW_MINUTES) {
                    stale.push(id);
                }
                continue;
            }
            let compatible = match (g.category, report.category) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            let shared = if compatible { g.shared(report) } else { 0 };
            let incident = g.standing != Standing::Counting;
            if shared >= rules.shared_words as usize {
                best = best.max(Some((shared, incident, g.last_seen, id)));
            }
        }
        for id in stale {
            self.remove(id);
        }
        best.map(|(_, _, _, id)| id)
    }

    /// The recorded reports of groups still counting, made within the incident's window, that
    /// share `shared` of its `words` (and its category): taken out of their groups, their cases
    /// returned.
    fn adopt(
        &mut self,
        incident: u64,
        words: &[String],
        (category, since): (Option<Category>, DateTime<Utc>),
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
            let Some(g) = self.groups.get_mut(&id) else {
                continue;
            };
            if g.standing != Standing::Counting {
                continue;
            }
            let fits = |m: &Member| {
                (m.category.is_none() || category.is_none() || m.category == category)
                    && m.at >= since
                    && m.case.is_some()
                    && m.keys.iter().filter(|k| words.contains(k)).count() >= shared
            };
            let (taken, kept): (Vec<Member>, Vec<Member>) = g.members.drain(..).partition(fits);
            g.members = kept.into();
            let mut gone = Vec::new();
            for m in taken {
                gone.extend(g.forget(&m.keys));
                cases.extend(m.case);
            }
            self.unindex(id, &gone);
        }
        cases
    }

    /// Makes room: groups still counting seen least recently first, then incidents.
    fn evict(&mut self) {
        let mut order: Vec<(bool, DateTime<Utc>, u64)> = self
            .groups
            .iter()
            .map(|(id, g)| (g.standing != Standing::Counting, g.last_seen, *id))
            .collect();
        order.sort();
        for (_, _, id) in order.into_iter().take(GROUPS / 4) {
            self.remove(id);
        }
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
            Some(author),
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
                Sighting::Member { group, member } => {
                    assert_eq!(memory.noted(group, member, i as i64 + 1), None);
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
            Some("a"),
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
        assert_eq!(memory.opened(opening.group, 7, &RULES), Vec::<i64>::new());
        let later = memory.observe(&report("omapankki pikamaksu rikki", "d", OUTAGE, 4), &RULES);
        assert!(
            matches!(later, Sighting::Joins { incident: 7 }),
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
            matches!(joins, Sighting::Joins { incident: 3 }),
            "{joins:?}"
        );
        memory.restore(4, &["lasku".to_string(), "eräpäivä".to_string()], OUTAGE);
        memory.merged(4, 3);
        let merged = memory.observe(&report("lasku eräpäivä väärin", "b", OUTAGE, 1), &RULES);
        assert!(
            matches!(merged, Sighting::Joins { incident: 3 }),
            "{merged:?}"
        );
        memory.closed(3);
        let closed = memory.observe(
            &report("OmaPankissa pikamaksu jumissa", "c", OUTAGE, 2),
            &RULES,
        );
        assert!(matches!(closed, Sighting::Member { .. }), "{closed:?}");
    }

    #[test]
    fn personal_data_is_never_a_key_word_and_anonymous_reports_are_one_author() {
        use crate::signals::personal_data::{PersonalData, PersonalKind};
        let text = "Pikamaksu ei toimi, kirjoita matti.virtanen@posti.fi";
        let start = text.find("matti").expect("address");
        let signals = Signals {
            urgency: vec![Cue {
                category: Category::Outage,
                weight: 0.6,
                span: Span::new(0, 1),
                words: "x".into(),
            }],
            personal_data: vec![PersonalData {
                kind: PersonalKind::Email,
                span: Span::new(start, text.chars().count()),
            }],
            ..Signals::default()
        };
        let at = Utc::now();
        let r = Report::of(&normalize(text), &signals, &[], None, Some("fb"), at).expect("report");
        let keys: Vec<&str> = r.keys().collect();
        assert_eq!(keys, ["pikam", "toimi", "kirjo"]);
        let memory = Memory::default();
        for _ in 0..5 {
            let r = Report::of(&normalize(text), &signals, &[], None, Some("fb"), at);
            let sighting = memory.observe(&r.expect("report"), &RULES);
            assert!(matches!(sighting, Sighting::Member { .. }), "{sighting:?}");
        }
    }

    #[test]
    fn an_opening_that_fails_counts_again_and_keeps_the_cases_noted_meanwhile() {
        let memory = Memory::default();
        let reports = [
            ("Pikamaksu ei toimi OmaPankissa", "a", 0),
            ("OmaPankki pikamaksu ei toimi taas", "b", 1),
        ];
        assert!(opened(&memory, &reports).is_none());
        let tip = memory.observe(
            &report("pikamaksu OmaPankissa ei toimi", "c", OUTAGE, 2),
            &RULES,
        );
        let Sighting::Opens(opening) = tip else {
            panic!("{tip:?}");
        };
        let during = memory.observe(
            &report("OmaPankki pikamaksu ei toimi", "d", OUTAGE, 3),
            &RULES,
        );
        let Sighting::Member { group, member } = during else {
            panic!("{during:?}");
        };
        assert_eq!(
            memory.noted(group, member, 9),
            None,
            "kept for when it opens"
        );
        memory.not_opened(opening.group);
        let again = memory.observe(
            &report("pikamaksu omapankki ei toimi", "e", OUTAGE, 4),
            &RULES,
        );
        let Sighting::Opens(reopening) = again else {
            panic!("{again:?}");
        };
        assert!(reopening.cases.contains(&9), "{reopening:?}");
    }

    #[test]
    fn stale_groups_leave_the_index() {
        let memory = Memory::default();
        memory.observe(
            &report("Laskun eräpäivä siirtyi taas", "a", OUTAGE, 0),
            &RULES,
        );
        assert!(memory.lock().index.contains_key("eräpä"));
        let later = memory.observe(&report("Laskun eräpäivä siirtyi", "b", OUTAGE, 600), &RULES);
        assert!(
            matches!(later, Sighting::Member { .. }),
            "outside the window: {later:?}"
        );
        assert_eq!(
            memory.lock().groups.len(),
            2,
            "kept while a longer window may count it"
        );
        memory.observe(
            &report("Laskun eräpäivä siirtyi", "c", OUTAGE, 10_700),
            &RULES,
        );
        let inner = memory.lock();
        assert_eq!(inner.groups.len(), 1, "the stale group went");
        assert!(inner.index.values().all(|ids| ids.len() == 1));
    }
}
