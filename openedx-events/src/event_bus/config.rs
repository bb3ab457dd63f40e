//! `EVENT_BUS_PRODUCER_CONFIG`: which events are produced to which topics, keyed by which field.
//!
//! The shape is upstream's, as JSON (in the environment variable) or TOML (in a file):
//!
//! ```json
//! {"org.openedx.learning.course.enrollment.created.v1":
//!     {"course-enrollment": {"event_key_field": "enrollment.course.course_key", "enabled": true}}}
//! ```
//!
//! ```toml
//! ["org.openedx.learning.course.enrollment.created.v1".course-enrollment]
//! event_key_field = "enrollment.course.course_key"
//! enabled = true
//! ```
//!
//! (TOML needs the `toml` feature.)

use std::fmt;

use serde_json::{Map, Value};

use super::mode::ProducerMode;
use crate::data::{DataDescription, FieldType};
use crate::registry::{get_signal_by_type, similar_event_types};
use crate::signal::AnySignal;

/// Every problem found in a configuration or in settings, reported together so that one run
/// shows them all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", Lines(.0))]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// The problems, from a non-empty list.
    pub fn new(errors: Vec<ConfigError>) -> Self {
        ConfigErrors(errors)
    }

    /// The problems, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems as a list.
    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

struct Lines<'a>(&'a [ConfigError]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [only] => write!(f, "{only}"),
            all => {
                write!(f, "{} configuration problems:", all.len())?;
                all.iter().try_for_each(|error| write!(f, "\n  - {error}"))
            }
        }
    }
}

/// Why an event key field is not a path through a payload to a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFieldError {
    /// A record on the path has no field of that name.
    #[error("`{record}` has no field `{field}` (its fields: {})", .fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))]
    NoSuchField {
        /// The record's type name.
        record: &'static str,
        /// The segment that is not one of its fields.
        field: String,
        /// Its fields.
        fields: Vec<&'static str>,
    },
    /// A segment that is not last names a value that has no fields.
    #[error("`{field}` is a `{ty}`, which has no fields")]
    NotARecord {
        /// The segment.
        field: String,
        /// Its type, as a Rust user writes it.
        ty: String,
    },
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
}

/// A problem with the event bus configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not JSON or TOML.
    #[error("the producer configuration does not parse: {0}")]
    Parse(String),
    /// A part that must be an object (a table) is not.
    #[error("the producer configuration at {at} must be an object")]
    NotAnObject {
        /// Where: `the top level`, an event type, or an event type and topic.
        at: String,
    },
    /// An event type no signal has.
    #[error("no event of type `{event_type}`{}", Suggestions(.suggestions))]
    UnknownEventType {
        /// The configured type.
        event_type: String,
        /// Known types close to it.
        suggestions: Vec<&'static str>,
    },
    /// A topic's configuration lacks a key.
    #[error("`{event_type}` topic `{topic}` is missing `{key}`")]
    MissingKey {
        /// The event type.
        event_type: String,
        /// The topic.
        topic: String,
        /// The missing key: `event_key_field` or `enabled`.
        key: &'static str,
    },
    /// A key holds a value of the wrong type.
    #[error("`{event_type}` topic `{topic}`: `{key}` must be {expected}")]
    WrongType {
        /// The event type.
        event_type: String,
        /// The topic.
        topic: String,
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// The event key field is not a path through the payload.
    #[error("`{event_type}` topic `{topic}`: event_key_field `{key_field}` does not resolve: {reason}")]
    UnresolvedKeyField {
        /// The event type.
        event_type: String,
        /// The topic.
        topic: String,
        /// The configured path.
        key_field: String,
        /// Where it stops.
        #[source]
        reason: KeyFieldError,
    },
    /// The event key field names a value that cannot key an event: an `Option`, a record, a list
    /// or a map (upstream's Kafka producer fails on those when it sends).
    #[error(
        "`{event_type}` topic `{topic}`: event_key_field `{key_field}` names a `{ty}`, which cannot key an event; name a string, number, boolean, UUID or opaque key that is always present"
    )]
    UnkeyableKeyField {
        /// The event type.
        event_type: String,
        /// The topic.
        topic: String,
        /// The configured path.
        key_field: String,
        /// The type it names, as a Rust user writes it.
        ty: String,
    },
    /// An event's `mode` is not a producer mode.
    #[error("`{event_type}`: mode {value} is not a producer mode; expected `on-commit`, `outbox` or `immediate`")]
    InvalidMode {
        /// The event type.
        event_type: String,
        /// The configured value, as JSON.
        value: String,
    },
    /// An environment setting does not parse.
    #[error("setting `{name}` has an invalid value {value:?}{}", .expected.map(|e| format!("; expected {e}")).unwrap_or_default())]
    InvalidSetting {
        /// The variable.
        name: &'static str,
        /// Its value, with any secret in it redacted.
        value: String,
        /// What a valid value looks like, when that helps.
        expected: Option<&'static str>,
    },
}

struct Suggestions<'a>(&'a [&'static str]);

impl fmt::Display for Suggestions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        write!(f, "; did you mean {}?", self.0.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or "))
    }
}

/// One topic an event is produced to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// The topic, without the environment prefix.
    pub topic: String,
    /// The dotted path of the value that keys the event on the topic.
    pub event_key_field: String,
    /// Whether events are produced to it.
    pub enabled: bool,
}

/// A validated producer configuration: every event type is a signal of this program, every topic
/// has a key field that resolves through the payload and an `enabled` flag.
///
/// Each event also has a [production mode](ProducerMode): its own `mode` (a string beside its
/// topics, `{"mode": "outbox", "topic-a": {...}}`), or else the configuration's default
/// ([`with_default_mode`](Self::with_default_mode), `EVENT_BUS_PRODUCER_MODE` in
/// [`from_env`](Self::from_env)), which is `on-commit` unless set.
#[derive(Clone)]
pub struct ProducerConfig {
    events: Vec<(&'static dyn AnySignal, Vec<TopicConfig>)>,
    /// Each event's own mode, in `events`' order.
    modes: Vec<Option<ProducerMode>>,
    default_mode: ProducerMode,
}

impl fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.events.iter().map(|(signal, topics)| (signal.event_type(), topics))).finish()
    }
}

impl ProducerConfig {
    /// Validates upstream's JSON shape, reporting every problem at once.
    pub fn from_value(value: &Value) -> Result<ProducerConfig, ConfigErrors> {
        let mut errors = Vec::new();
        let mut events = Vec::new();
        let mut modes = Vec::new();
        let Some(by_type) = value.as_object() else {
            return Err(ConfigError::NotAnObject { at: "the top level".to_owned() }.into());
        };
        for (event_type, topics) in by_type {
            let Some(signal) = get_signal_by_type(event_type) else {
                errors.push(ConfigError::UnknownEventType {
                    event_type: event_type.clone(),
                    suggestions: similar_event_types(event_type),
                });
                continue;
            };
            let Some(topics) = topics.as_object() else {
                errors.push(ConfigError::NotAnObject { at: format!("`{event_type}`") });
                continue;
            };
            let mut routes = Vec::new();
            let mut mode = None;
            for (topic, config) in topics {
                if topic == "mode" && !config.is_object() {
                    match config.as_str().map(str::parse::<ProducerMode>) {
                        Some(Ok(parsed)) => mode = Some(parsed),
                        _ => errors.push(ConfigError::InvalidMode {
                            event_type: event_type.clone(),
                            value: config.to_string(),
                        }),
                    }
                    continue;
                }
                match topic_config(signal, topic, config) {
                    Ok(route) => routes.push(route),
                    Err(mut problems) => errors.append(&mut problems),
                }
            }
            events.push((signal, routes));
            modes.push(mode);
        }
        if errors.is_empty() {
            Ok(ProducerConfig { events, modes, default_mode: ProducerMode::default() })
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Parses and validates the JSON form (what `EVENT_BUS_PRODUCER_CONFIG` holds).
    pub fn from_json(json: &str) -> Result<ProducerConfig, ConfigErrors> {
        let value: Value = serde_json::from_str(json).map_err(|e| ConfigError::Parse(e.to_string()))?;
        ProducerConfig::from_value(&value)
    }

    /// Parses and validates the TOML form (a configuration file).
    #[cfg(feature = "toml")]
    pub fn from_toml(toml: &str) -> Result<ProducerConfig, ConfigErrors> {
        ProducerConfig::from_value(&toml_to_json(toml)?)
    }

    /// The configuration in the `EVENT_BUS_PRODUCER_CONFIG` environment variable, `None` when it is
    /// unset, with `EVENT_BUS_PRODUCER_MODE` (when set) as its default mode.
    pub fn from_env() -> Result<Option<ProducerConfig>, ConfigErrors> {
        let mode = ProducerMode::from_env();
        let config = match std::env::var("EVENT_BUS_PRODUCER_CONFIG") {
            Ok(json) if !json.trim().is_empty() => ProducerConfig::from_json(&json).map(Some),
            _ => Ok(None),
        };
        match (config, mode) {
            (Ok(config), Ok(mode)) => Ok(config.map(|config| match mode {
                Some(mode) => config.with_default_mode(mode),
                None => config,
            })),
            (Ok(_), Err(errors)) | (Err(errors), Ok(_)) => Err(errors),
            (Err(errors), Err(more)) => {
                let mut all = errors.into_vec();
                all.extend(more.into_vec());
                Err(ConfigErrors(all))
            }
        }
    }

    /// The configuration with this mode for the events that set none (upstream's
    /// `EVENT_BUS_PRODUCER_MODE`).
    pub fn with_default_mode(mut self, mode: ProducerMode) -> Self {
        self.default_mode = mode;
        self
    }

    /// The mode of events that set none.
    pub fn default_mode(&self) -> ProducerMode {
        self.default_mode
    }

    /// The mode of one event type: its own, or the default.
    pub fn mode(&self, event_type: &str) -> ProducerMode {
        self.events
            .iter()
            .zip(&self.modes)
            .find(|((signal, _), _)| signal.event_type() == event_type)
            .and_then(|(_, mode)| *mode)
            .unwrap_or(self.default_mode)
    }

    /// Each configured signal with its topics (enabled or not).
    pub fn events(&self) -> impl Iterator<Item = (&'static dyn AnySignal, &[TopicConfig])> {
        self.events.iter().map(|(signal, topics)| (*signal, topics.as_slice()))
    }

    /// The enabled topics of one event type.
    pub fn enabled_topics(&self, event_type: &str) -> impl Iterator<Item = &TopicConfig> {
        self.events
            .iter()
            .filter(move |(signal, _)| signal.event_type() == event_type)
            .flat_map(|(_, topics)| topics.iter().filter(|topic| topic.enabled))
    }
}

/// A TOML document in upstream's JSON shape.
#[cfg(feature = "toml")]
pub fn toml_to_json(toml: &str) -> Result<Value, ConfigErrors> {
    let table: toml::Table = toml.parse().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
    serde_json::to_value(table).map_err(|e| ConfigError::Parse(e.to_string()).into())
}

fn topic_config(signal: &'static dyn AnySignal, topic: &str, config: &Value) -> Result<TopicConfig, Vec<ConfigError>> {
    let event_type = signal.event_type().to_owned();
    let Some(config) = config.as_object() else {
        return Err(vec![ConfigError::NotAnObject { at: format!("`{event_type}` topic `{topic}`") }]);
    };
    let mut errors = Vec::new();
    let mut get = |key: &'static str, expected: &'static str, accept: fn(&Value) -> bool| match config.get(key) {
        None => {
            errors.push(ConfigError::MissingKey { event_type: event_type.clone(), topic: topic.to_owned(), key });
            None
        }
        Some(value) if accept(value) => Some(value.clone()),
        Some(_) => {
            errors.push(ConfigError::WrongType {
                event_type: event_type.clone(),
                topic: topic.to_owned(),
                key,
                expected,
            });
            None
        }
    };
    let key_field = get("event_key_field", "a string", Value::is_string);
    let enabled = get("enabled", "true or false", Value::is_boolean);
    let (Some(Value::String(key_field)), Some(Value::Bool(enabled))) = (key_field, enabled) else {
        return Err(errors);
    };
    match resolve_key_field(signal.data(), &key_field) {
        Err(reason) => {
            return Err(vec![ConfigError::UnresolvedKeyField {
                event_type,
                topic: topic.to_owned(),
                key_field,
                reason,
            }]);
        }
        Ok(ty) if !can_key(ty) => {
            let ty = ty.to_string();
            return Err(vec![ConfigError::UnkeyableKeyField { event_type, topic: topic.to_owned(), key_field, ty }]);
        }
        Ok(_) => {}
    }
    Ok(TopicConfig { topic: topic.to_owned(), event_key_field: key_field, enabled })
}

/// Whether a value of this type can key an event (see [`KeyValue`](crate::event_bus::KeyValue)).
pub fn can_key(ty: &FieldType) -> bool {
    matches!(
        ty,
        FieldType::String
            | FieldType::Int
            | FieldType::Long
            | FieldType::Boolean
            | FieldType::Double
            | FieldType::Uuid
            | FieldType::OpaqueKey(_)
    )
}

/// Follows a dotted path (an event key field) through a payload's nested records to the type it
/// names; the error says where it stops.
pub fn resolve_key_field(data: &DataDescription, path: &str) -> Result<&'static FieldType, KeyFieldError> {
    let mut record = data;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let Some(field) = record.field(segment) else {
            return Err(KeyFieldError::NoSuchField {
                record: record.name,
                field: segment.to_owned(),
                fields: record.fields.iter().map(|f| f.name).collect(),
            });
        };
        if segments.peek().is_none() {
            return Ok(field.ty);
        }
        match field.ty.without_optional() {
            FieldType::Record(inner) => record = inner,
            other => return Err(KeyFieldError::NotARecord { field: segment.to_owned(), ty: other.to_string() }),
        }
    }
    Err(KeyFieldError::Empty)
}

/// Combines two configurations in upstream's JSON shape as upstream's `merge_producer_configs`
/// does: every event type and topic of `overrides` is added to `original`, and where both set
/// `enabled` or `event_key_field` for the same event type and topic, `overrides` wins.
pub fn merge_producer_configs(original: &Value, overrides: &Value) -> Value {
    let mut combined = original.as_object().cloned().unwrap_or_default();
    for (event_type, topics) in overrides.as_object().into_iter().flatten() {
        let event_entry = combined.entry(event_type.clone()).or_insert_with(|| Value::Object(Map::new()));
        if !event_entry.is_object() {
            *event_entry = Value::Object(Map::new());
        }
        let Some(event_config) = event_entry.as_object_mut() else { continue };
        for (topic, overrides) in topics.as_object().into_iter().flatten() {
            let topic_entry = event_config.entry(topic.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !topic_entry.is_object() {
                *topic_entry = Value::Object(Map::new());
            }
            let Some(topic_config) = topic_entry.as_object_mut() else { continue };
            for key in ["enabled", "event_key_field"] {
                match overrides.get(key) {
                    None | Some(Value::Null) => {}
                    Some(value) => {
                        topic_config.insert(key.to_owned(), value.clone());
                    }
                }
            }
        }
    }
    Value::Object(combined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_follows_upstream() {
        let original = json!({
            "a.v1": {"t1": {"event_key_field": "k", "enabled": true}, "t2": {"event_key_field": "k", "enabled": true}},
            "b.v1": {"t3": {"event_key_field": "x", "enabled": true}},
        });
        let overrides = json!({
            "a.v1": {"t1": {"enabled": false}, "t4": {"event_key_field": "k2", "enabled": true}},
            "c.v1": {"t5": {"event_key_field": "y", "enabled": false}},
        });
        assert_eq!(
            merge_producer_configs(&original, &overrides),
            json!({
                "a.v1": {
                    "t1": {"event_key_field": "k", "enabled": false},
                    "t2": {"event_key_field": "k", "enabled": true},
                    "t4": {"event_key_field": "k2", "enabled": true},
                },
                "b.v1": {"t3": {"event_key_field": "x", "enabled": true}},
                "c.v1": {"t5": {"event_key_field": "y", "enabled": false}},
            })
        );
        // The original is not changed.
        assert_eq!(original["a.v1"]["t1"]["enabled"], json!(true));
    }

    #[test]
    #[cfg(feature = "toml")]
    fn toml_reads_into_the_json_shape() {
        let value =
            toml_to_json("[\"org.openedx.learning.x.y.v1\".topic-a]\nevent_key_field = \"a.b\"\nenabled = true\n")
                .unwrap();
        assert_eq!(
            value,
            json!({"org.openedx.learning.x.y.v1": {"topic-a": {"event_key_field": "a.b", "enabled": true}}})
        );
        assert!(matches!(toml_to_json("not = [toml").unwrap_err().into_vec()[0], ConfigError::Parse(_)));
    }
}
