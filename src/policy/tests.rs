//! Policy tests: the shipped policy, channel overrides, validation, and `decide` over a table of cases.

use super::*;
use crate::domain::Span;
use crate::signals::personal_data::{PersonalData, PersonalKind};
use crate::signals::{Cue, StaffTarget};

fn signals(cues: &[(Category, f32)]) -> Signals {
    Signals {
        language: crate::domain::Language::Fi,
        urgency: cues
            .iter()
            .map(|&(category, weight)| Cue {
                category,
                weight,
                span: Span::new(0, 1),
                words: "x".into(),
            })
            .collect(),
        ..Signals::default()
    }
}

struct Case {
    scores: Scores,
    cues: &'static [(Category, f32)],
    removed: u32,
    want: (Action, Priority, Option<Route>),
}

#[test]
fn decides_by_the_shipped_policy() {
    let policies = Policies::shipped().expect("shipped policy");
    let policy = policies.for_channel(None);
    let s = Scores::default();
    let cases = [
        Case {
            scores: s,
            cues: &[],
            removed: 0,
            want: (Action::Allow, Priority::Low, None),
        },
        Case {
            scores: Scores { urgency: 0.9, ..s },
            cues: &[(Category::Money, 0.9)],
            removed: 0,
            want: (
                Action::Prioritize,
                Priority::Urgent,
                "customer_service".parse().ok(),
            ),
        },
        Case {
            scores: Scores { urgency: 0.6, ..s },
            cues: &[(Category::Legal, 0.6)],
            removed: 0,
            want: (Action::Prioritize, Priority::High, "legal".parse().ok()),
        },
        Case {
            scores: Scores {
                toxicity: 0.6,
                urgency: 0.88,
                ..s
            },
            cues: &[(Category::Outage, 0.6), (Category::Privacy, 0.7)],
            removed: 0,
            want: (Action::Review, Priority::Urgent, "security".parse().ok()),
        },
        Case {
            scores: Scores { insult: 0.8, ..s },
            cues: &[],
            removed: 0,
            want: (
                Action::Hide,
                Priority::Normal,
                "communications".parse().ok(),
            ),
        },
        Case {
            scores: Scores { threat: 0.9, ..s },
            cues: &[],
            removed: 0,
            want: (
                Action::Delete,
                Priority::Normal,
                "communications".parse().ok(),
            ),
        },
        Case {
            scores: Scores { troll: 0.99, ..s },
            cues: &[],
            removed: 0,
            want: (
                Action::Review,
                Priority::Normal,
                "communications".parse().ok(),
            ),
        },
        Case {
            scores: Scores { toxicity: 0.6, ..s },
            cues: &[],
            removed: 1,
            want: (
                Action::Hide,
                Priority::Normal,
                "communications".parse().ok(),
            ),
        },
        Case {
            scores: Scores { insult: 0.8, ..s },
            cues: &[],
            removed: 2,
            want: (
                Action::BlockAuthor,
                Priority::Normal,
                "communications".parse().ok(),
            ),
        },
        Case {
            scores: s,
            cues: &[],
            removed: 5,
            want: (Action::Allow, Priority::Low, None),
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let d = decide(
            policy,
            &c.scores,
            &IntentScores::default(),
            &signals(c.cues),
            AuthorHistory { removed: c.removed },
            vec![],
        );
        assert_eq!((d.action, d.priority, d.route), c.want, "case {i}");
        assert_eq!(
            d.reasons.iter().any(|r| r.code == "author.history"),
            c.removed > 0 && d.action != Action::Allow,
            "case {i}"
        );
    }
}

#[test]
fn channels_inherit_and_override() {
    let policies = Policies::shipped().expect("shipped policy");
    let x = policies.for_channel(Some("x"));
    let default = policies.for_channel(Some("no-such-channel"));
    assert_eq!(default.name, "default");
    assert_eq!(
        (x.name.as_str(), x.actions.review.get("troll")),
        ("x", Some(&0.5))
    );
    assert_eq!(
        x.actions.review.get("toxicity"),
        default.actions.review.get("toxicity")
    );
    let troll = Scores {
        troll: 0.52,
        ..Scores::default()
    };
    assert_eq!(
        decide(
            x,
            &troll,
            &IntentScores::default(),
            &signals(&[]),
            AuthorHistory::default(),
            vec![]
        )
        .action,
        Action::Review
    );
    assert_eq!(
        decide(
            default,
            &troll,
            &IntentScores::default(),
            &signals(&[]),
            AuthorHistory::default(),
            vec![]
        )
        .action,
        Action::Allow
    );
}

#[test]
fn validation_names_every_bad_field() {
    let source = include_str!("default.toml")
        .replace(
            "toxicity = 0.9",
            "toxicity = 1.7\ntroll = 0.9\nfake_account = 0.9",
        )
        .replace("threat = 0.7", "menace = 0.7");
    let err = Policies::from_toml(&source).expect_err("invalid policy");
    assert!(
        err.contains("actions.hide.toxicity: 1.7 is not in [0, 1]"),
        "{err}"
    );
    assert!(
        err.contains("actions.hide.troll: account and writing signals may reach review at most"),
        "{err}"
    );
    assert!(
        err.contains(
            "actions.hide.fake_account: account and writing signals may reach review at most"
        ),
        "{err}"
    );
    assert!(
        err.contains("actions.delete.menace: unknown score"),
        "{err}"
    );
    let bad_channel = format!(
        "{}\n[channels.chat.actions.review]\ntoxicity = -1\n",
        include_str!("default.toml")
    );
    let err = Policies::from_toml(&bad_channel).expect_err("invalid channel");
    assert!(
        err.starts_with("channels.chat: actions.review.toxicity: -1 is not in [0, 1]"),
        "{err}"
    );
    // A problem of the default's that a channel only inherits is said once.
    let inherited = format!(
        "{}\n[channels.chat.priority]\nhigh = 0.5\n",
        include_str!("default.toml").replace("threat = 0.7", "menace = 0.7")
    );
    let err = Policies::from_toml(&inherited).expect_err("invalid default");
    assert_eq!(err.matches("menace").count(), 1, "{err}");
    assert!(!err.contains("channels.chat"), "{err}");
}

#[test]
fn reasons_come_strongest_first() {
    let policies = Policies::shipped().expect("shipped policy");
    let reasons = vec![
        Reason::new("a", "weak", 0.1),
        Reason::new("b", "strong", 0.6),
        Reason::new("c", "middle", 0.3),
    ];
    let d = decide(
        policies.for_channel(None),
        &Scores::default(),
        &IntentScores::default(),
        &signals(&[]),
        AuthorHistory::default(),
        reasons,
    );
    let codes: Vec<&str> = d.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["b", "c", "a"]);
}

#[test]
fn personal_data_is_hidden_to_protect_the_customer() {
    let policies = Policies::shipped().expect("shipped policy");
    let policy = policies.for_channel(None);
    let with_phone = Signals {
        personal_data: vec![PersonalData {
            kind: PersonalKind::Phone,
            span: Span::new(6, 18),
        }],
        ..signals(&[(Category::Money, 0.9)])
    };
    let s = Scores::default();
    let d = decide(
        policy,
        &s,
        &IntentScores::default(),
        &with_phone,
        AuthorHistory { removed: 2 },
        vec![],
    );
    assert_eq!(
        (d.action, d.priority, d.route),
        (
            Action::Hide,
            Priority::High,
            "customer_service".parse().ok()
        )
    );
    assert_eq!(d.recommendations, [Recommendation::MoveToPrivateMessages]);
    assert!(d.protective, "hidden only for the customer's sake");
    // An urgent need keeps its priority; an insult hides anyway, so that hide is no protection.
    let urgent = decide(
        policy,
        &Scores { urgency: 0.9, ..s },
        &IntentScores::default(),
        &with_phone,
        AuthorHistory::default(),
        vec![],
    );
    assert_eq!(urgent.priority, Priority::Urgent);
    let insult = decide(
        policy,
        &Scores { insult: 0.8, ..s },
        &IntentScores::default(),
        &with_phone,
        AuthorHistory::default(),
        vec![],
    );
    assert_eq!((insult.action, insult.protective), (Action::Hide, false));
}

#[test]
fn an_attack_on_staff_goes_to_a_supervisor() {
    let policies = Policies::shipped().expect("shipped policy");
    let policy = policies.for_channel(None);
    let at_agent = Signals {
        staff_target: Some(StaffTarget {
            span: Span::new(0, 22),
            target: "asiakaspalvelija Mikko".into(),
        }),
        ..signals(&[(Category::Money, 0.9)])
    };
    let s = Scores::default();
    let d = decide(
        policy,
        &Scores { urgency: 0.9, ..s },
        &IntentScores::default(),
        &at_agent,
        AuthorHistory::default(),
        vec![],
    );
    assert_eq!(
        (d.action, d.priority, d.route),
        (
            Action::Review,
            Priority::Urgent,
            "communications".parse().ok()
        )
    );
    assert_eq!(d.recommendations, [Recommendation::SupervisorReplies]);
    let insult = decide(
        policy,
        &Scores { insult: 0.8, ..s },
        &IntentScores::default(),
        &at_agent,
        AuthorHistory::default(),
        vec![],
    );
    assert_eq!(
        (insult.action, insult.route),
        (Action::Hide, "communications".parse().ok())
    );
}

#[test]
fn respond_by_follows_priority_and_action() {
    let policies = Policies::shipped().expect("shipped policy");
    let policy = policies.for_channel(None);
    let created = DateTime::parse_from_rfc3339("2026-11-26T19:50:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let decision = |scores: Scores| {
        decide(
            policy,
            &scores,
            &IntentScores::default(),
            &signals(&[(Category::Outage, 0.9)]),
            AuthorHistory::default(),
            vec![],
        )
    };
    let s = Scores::default();
    // Urgent at 21:50 Helsinki: 10 minutes tonight, 20 from 07:00 tomorrow.
    let urgent = decision(Scores { urgency: 0.9, ..s });
    assert_eq!(
        policy.respond_by(&urgent, created).map(|t| t.to_rfc3339()),
        Some("2026-11-27T05:20:00+00:00".into())
    );
    assert_eq!(
        policy.respond_by(&decision(s), created),
        None,
        "low priority has no target"
    );
    let deleted = decision(Scores {
        threat: 0.9,
        urgency: 0.9,
        ..s
    });
    assert_eq!(
        policy.respond_by(&deleted, created),
        None,
        "a deleted threat gets no reply"
    );
}

#[test]
fn reply_targets_are_validated() {
    let source = include_str!("default.toml").replace("urgent = 30", "urgent = 0");
    let err = Policies::from_toml(&source).expect_err("zero target");
    assert!(
        err.contains("reply.minutes.urgent: must be at least 1"),
        "{err}"
    );
    let source = include_str!("default.toml").replace("mon = \"07:00-22:00\"", "mon = \"22-7\"");
    let err = Policies::from_toml(&source).expect_err("bad hours");
    assert!(err.contains("\"22-7\" is not opening hours"), "{err}");
    let source = include_str!("default.toml").replace("Europe/Helsinki", "Europe/Hesa");
    assert!(Policies::from_toml(&source).is_err());
}

#[test]
fn channels_override_reply_targets_and_close_days() {
    let source = format!(
        "{}\n[channels.chat.reply.minutes]\nurgent = 10\n[channels.chat.reply.hours]\nthu = \"closed\"\n",
        include_str!("default.toml")
    );
    let policies = Policies::from_toml(&source).expect("policy with a chat channel");
    let chat = policies.for_channel(Some("chat"));
    let default = policies.for_channel(None);
    let urgent = decide(
        chat,
        &Scores {
            urgency: 0.9,
            ..Scores::default()
        },
        &IntentScores::default(),
        &signals(&[(Category::Outage, 0.9)]),
        AuthorHistory::default(),
        vec![],
    );
    // Thursday 2026-11-26 12:00 Helsinki: chat is closed on Thursdays, so Friday 07:10.
    let created = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let due = |p: &Policy| p.respond_by(&urgent, created).map(|t| t.to_rfc3339());
    assert_eq!(due(chat), Some("2026-11-27T05:10:00+00:00".into()));
    assert_eq!(due(default), Some("2026-11-26T10:30:00+00:00".into()));
}

#[test]
fn a_policy_stored_before_intents_hands_them_off_as_the_shipped_one_does() {
    let shipped = Policies::shipped().expect("shipped");
    let handoffs = &shipped.for_channel(None).intents;
    assert_eq!(
        handoffs
            .get(&Intent::PurchaseIntent)
            .map(|h| h.route.clone()),
        "sales".parse().ok()
    );
    let without = include_str!("default.toml").replace("[intents]", "[intents_of_another_kind]");
    let start = without.find("[intents_of_another_kind]").expect("table");
    let end = start + without[start..].find("\n\n").expect("end of table");
    let older = format!("{}{}", &without[..start], &without[end..]);
    let older = Policies::from_toml(&older).expect("an older default");
    assert_eq!(&older.for_channel(None).intents, handoffs);
    let none = include_str!("default.toml").replace(
        "question = { route = \"customer_service\", priority = \"normal\" }",
        "",
    );
    let none = Policies::from_toml(&none).expect("one intent fewer");
    assert!(
        !none
            .for_channel(None)
            .intents
            .contains_key(&Intent::Question)
    );
}

#[test]
fn routes_are_the_policys_own_teams() {
    let shipped = include_str!("default.toml");
    // A route that is no team is refused, with the path of every field that names it.
    let typo = shipped
        .replace(
            "praise = { route = \"marketing\" }",
            "praise = { route = \"marketting\" }",
        )
        .replace("churn = \"sales\"", "churn = \"retention\"");
    let err = Policies::from_toml(&typo).expect_err("unknown routes");
    assert!(
        err.contains(
            "intents.praise.route: unknown route \"marketting\" (teams: customer_service,"
        ),
        "{err}"
    );
    assert!(
        err.contains("routes.churn: unknown route \"retention\""),
        "{err}"
    );
    // A badly formed name is refused as it is read.
    let malformed = shipped.replace("legal = \"legal\"", "legal = \"Legal Team\"");
    let err = Policies::from_toml(&malformed).expect_err("malformed route");
    assert!(err.contains("\"Legal Team\" is not a route name"), "{err}");
    // A channel lists its own teams, and routes to a team only it has.
    let own = format!(
        "{shipped}\n[channels.careers]\nteams = [\"customer_service\", \"communications\", \
         \"legal\", \"security\", \"sales\", \"product\", \"marketing\", \"recruiting\"]\n\
         [channels.careers.intents]\njob_inquiry = {{ route = \"recruiting\", priority = \"high\" }}\n"
    );
    let policies = Policies::from_toml(&own).expect("a channel with its own teams");
    let careers = policies.for_channel(Some("careers"));
    assert_eq!(
        careers
            .intents
            .get(&Intent::JobInquiry)
            .map(|h| h.route.as_str()),
        Some("recruiting")
    );
    let teams = policies.teams();
    assert_eq!(teams.last().map(Route::as_str), Some("recruiting"));
    assert_eq!(teams.len(), 9, "each team once: {teams:?}");
    // The channel's list replaced the default's whole: its inherited `hr` hand-off is no team.
    let err = Policies::from_toml(&own.replace(
        "job_inquiry = { route = \"recruiting\", priority = \"high\" }",
        "",
    ))
    .expect_err("inherited route not in the channel's teams");
    assert!(
        err.contains("channels.careers: intents.job_inquiry.route: unknown route \"hr\""),
        "{err}"
    );
    let none = shipped.replacen("teams = [", "teams = [] # ", 1);
    let err = Policies::from_toml(&none).expect_err("no teams");
    assert!(err.contains("teams: name at least one team"), "{err}");
}
#[test]
fn shape_errors_name_the_field() {
    let shipped = include_str!("default.toml");
    for (from, to, want) in [
        (
            "praise = { route",
            "prayse = { route",
            "intents: unknown variant `prayse`, expected one of `question`",
        ),
        (
            "praise = { route = \"marketing\" }",
            "praise = { route = \"marketing\", priority = \"soon\" }",
            "intents.praise.priority: unknown variant `soon`",
        ),
        (
            "moderation = \"communications\"",
            "",
            "routes: missing field `moderation`",
        ),
        (
            "[escalation]",
            "colour = 1\n[escalation]",
            "priority.colour: unknown field `colour`",
        ),
        (
            "legal = \"legal\"",
            "legal = \"Legal Team\"",
            "routes.legal: \"Legal Team\" is not a route name",
        ),
        (
            "hide_after = 1",
            "hide_after = -1",
            "escalation.hide_after: invalid value: integer `-1`",
        ),
        (
            "[words]",
            "[[webhooks]]\nname = \"a\"\nurl = \"https://a.example/\"\nsecret = \"a\"\n\
             events = [\"urgent_case\"]\n[[webhooks]]\nname = \"b\"\nurl = \"https://b.example/\"\n\
             secret = \"b\"\nevents = [\"urgent_case\", \"sales_leed\"]\n\n[words]",
            "webhooks[1].events[1]: unknown variant `sales_leed`",
        ),
        (
            "teams = [\"customer_service\",",
            "teams = [\"customer_service\", \"customer_service\",",
            "teams[1]: \"customer_service\" is listed twice",
        ),
    ] {
        let err = Policies::from_toml(&shipped.replacen(from, to, 1)).expect_err(to);
        assert!(err.starts_with(want), "{to}: {err}");
    }
}

#[test]
fn the_shipped_cascade_is_the_one_a_policy_without_the_table_gets() {
    let shipped = Policies::shipped().expect("shipped policy");
    assert_eq!(shipped.default.cascade, cascade::Cascade::default());
    let channel = Policies::from_toml(&format!(
        "{}\n[channels.chat.cascade]\nwhen = \"always\"\n",
        include_str!("default.toml")
    ))
    .expect("policy with a channel");
    let chat = channel.for_channel(Some("chat"));
    assert_eq!(chat.cascade.when, cascade::When::Always);
    assert_eq!(chat.cascade.band, [0.47, 0.53], "the rest is inherited");
}
