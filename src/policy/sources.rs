//! Policies as versioned text: the default policy's TOML and each channel's overrides, each
//! with the version the register gave it. [`super::Policies::resolve`] turns them into policies.
//!
//! A policy file (`default.toml`, `--policy FILE`) holds the default and `[channels.NAME]`
//! overrides at once; [`Sources::from_file`] splits it, which is how the register gets its
//! first version of each. The register names and numbers each source; a `name` or `version`
//! in its text (as `seula policy show` prints them) is read past.

use std::collections::BTreeMap;

/// The name of the policy every channel inherits from.
pub const DEFAULT: &str = "default";

/// One policy's text at one version: for `default` a whole policy, for a channel the parts it
/// overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub version: u32,
    pub toml: String,
}

impl Source {
    /// Parses the text. `name` and `version`, as `seula policy show` prints them, are read past:
    /// the register names and numbers its versions. `channels` is not a source's to set.
    pub fn table(&self) -> Result<toml::Table, String> {
        let mut table: toml::Table = toml::from_str(&self.toml).map_err(|e| e.to_string())?;
        if table.contains_key("channels") {
            return Err(
                "channels: a policy version is one policy; send each channel's \
                        overrides to its own name"
                    .into(),
            );
        }
        table.remove("name");
        table.remove("version");
        Ok(table)
    }
}

/// The sources in force: the default's and each channel's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub default: Source,
    pub channels: BTreeMap<String, Source>,
}

impl Sources {
    /// Splits a policy file into the default and its channels, all at the file's `version`.
    pub fn from_file(file: &str) -> Result<Self, String> {
        let mut table: toml::Table = toml::from_str(file).map_err(|e| e.to_string())?;
        let version = match table.remove("version") {
            Some(toml::Value::Integer(v)) => {
                u32::try_from(v).map_err(|_| format!("version: {v} is not a version number"))?
            }
            Some(other) => return Err(format!("version: {other} is not a version number")),
            None => 1,
        };
        table.remove("name");
        let channels = match table.remove("channels") {
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err("channels: must be a table of channel names".into()),
            None => toml::Table::new(),
        };
        let text = |t: &toml::Table| toml::to_string(t).map_err(|e| e.to_string());
        let channels = channels
            .into_iter()
            .map(|(name, over)| match over {
                toml::Value::Table(t) => Ok((
                    name,
                    Source {
                        version,
                        toml: text(&t)?,
                    },
                )),
                _ => Err(format!("channels.{name}: must be a table")),
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            default: Source {
                version,
                toml: text(&table)?,
            },
            channels,
        })
    }

    /// These sources with the policy `name` (`default` or a channel) at `source`.
    pub fn with(&self, name: &str, source: Source) -> Self {
        let mut next = self.clone();
        match name {
            DEFAULT => next.default = source,
            channel => {
                next.channels.insert(channel.to_string(), source);
            }
        }
        next
    }

    /// Every policy's name and source, the default first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Source)> {
        std::iter::once((DEFAULT, &self.default))
            .chain(self.channels.iter().map(|(n, s)| (n.as_str(), s)))
    }
}

/// Whether `name` may name a policy: `default`, or a channel of 1–64 lowercase letters, digits,
/// `-` and `_`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policies;

    #[test]
    fn a_file_splits_into_the_default_and_its_channels_and_resolves_the_same() {
        let file = include_str!("default.toml");
        let sources = Sources::from_file(file).expect("split");
        assert_eq!(sources.default.version, 1);
        assert_eq!(sources.channels.keys().collect::<Vec<_>>(), ["x"]);
        let x = sources.channels["x"].table().expect("x");
        assert_eq!(x["actions"]["review"]["troll"].as_float(), Some(0.5));
        let (whole, split) = (
            Policies::from_toml(file).expect("file"),
            Policies::resolve(&sources).expect("sources"),
        );
        for channel in [None, Some("x"), Some("unknown")] {
            assert_eq!(whole.for_channel(channel), split.for_channel(channel));
        }
    }

    #[test]
    fn a_new_version_replaces_one_policy_and_channels_inherit_the_default() {
        let sources = Sources::from_file(include_str!("default.toml")).expect("split");
        let tighter = sources.default.toml.replace("insult = 0.7", "insult = 0.6");
        let next = sources.with(
            DEFAULT,
            Source {
                version: 2,
                toml: tighter,
            },
        );
        let policies = Policies::resolve(&next).expect("resolve");
        let x = policies.for_channel(Some("x"));
        assert_eq!((x.version, x.actions.hide.get("insult")), (1, Some(&0.6)));
        assert_eq!(policies.for_channel(None).version, 2);
    }

    #[test]
    fn every_bad_field_of_every_policy_is_reported() {
        let sources = Sources::from_file(include_str!("default.toml")).expect("split");
        let bad_channel = Source {
            version: 2,
            toml: "[actions.hide]\ntoxicity = 1.7\n".into(),
        };
        let err = Policies::resolve(&sources.with("chat", bad_channel)).expect_err("invalid");
        assert_eq!(
            err,
            "channels.chat: actions.hide.toxicity: 1.7 is not in [0, 1]"
        );
        let nested = Source {
            version: 2,
            toml: "[channels.x.actions.hide]\ninsult = 0.5\n".into(),
        };
        let err = Policies::resolve(&sources.with("chat", nested)).expect_err("reserved");
        assert!(
            err.starts_with("channels.chat: channels: a policy version is one policy"),
            "{err}"
        );
        assert!(valid_name("x") && valid_name("fb-fi_2") && !valid_name("X") && !valid_name(""));
    }
}
