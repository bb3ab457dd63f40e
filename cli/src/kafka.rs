//! The event bus commands on the Kafka backend (`--bus kafka`): `produce`, `consume` and
//! `dead-letters`, as their Redis forms in [`crate::bus`] behave.
//!
//! The settings are read as a service reads them (`KafkaSettings::from_env`), with
//! `--bootstrap-servers`, `--schema-registry-url` and `--topic-prefix` over their variables.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use openedx_events::event_bus::{
    EventBusConsumer, EventBusProducer, EventKey, OutgoingMessage, can_key, dead_letter_topic, resolve_key_field,
};

use openedx_events_kafka::{DeadLetter, KafkaConsumer, KafkaProducer, KafkaSettings, StartFrom};
use serde_json::{Value, json};

use crate::bus::{BuiltInReceivers, Flush, Progress, Sink, stop_on_signals};
use crate::commands::{emit, json_to_avro, note, serializable};
use crate::error::CliError;
use crate::webhook::{Webhook, WebhookArgs};
use crate::{lookup, render};

/// Where the Kafka bus is, as given on the command line.
#[derive(Debug, Default)]
pub(crate) struct KafkaConnection {
    /// `--bootstrap-servers`, over `EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS`.
    pub(crate) bootstrap_servers: Option<String>,
    /// `--schema-registry-url`, over `EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL`.
    pub(crate) schema_registry_url: Option<String>,
    /// `--topic-prefix`, over `EVENT_BUS_TOPIC_PREFIX`; empty for none.
    pub(crate) topic_prefix: Option<String>,
}

impl KafkaConnection {
    /// The settings from the environment, with the command line's over them; an error when
    /// there are no brokers or no registry.
    pub(crate) fn settings(&self) -> Result<KafkaSettings, CliError> {
        let mut settings = KafkaSettings::from_env().map_err(|error| CliError::BusSettings(error.to_string()))?;
        if let Some(servers) = &self.bootstrap_servers {
            settings.bootstrap_servers = Some(servers.clone());
        }
        if let Some(url) = &self.schema_registry_url {
            settings.schema_registry_url = Some(url.clone());
        }
        if let Some(prefix) = &self.topic_prefix {
            settings.topic_prefix = Some(prefix.clone()).filter(|prefix| !prefix.is_empty());
        }
        if settings.bootstrap_servers.is_none() {
            return Err(CliError::BusSettings(
                "no Kafka brokers: pass --bootstrap-servers or set EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS".to_owned(),
            ));
        }
        if settings.schema_registry_url.is_none() {
            return Err(CliError::BusSettings(
                "no schema registry: pass --schema-registry-url or set EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL".to_owned(),
            ));
        }
        Ok(settings)
    }
}

fn bus_error(settings: &KafkaSettings, error: impl std::fmt::Display) -> CliError {
    CliError::Bus { url: settings.bootstrap_servers.clone().unwrap_or_default(), message: error.to_string() }
}

/// The key at `path` of the event's JSON form: text (opaque keys and UUIDs are text there),
/// a whole number, a float or a flag.
fn key_of(json: &Value, path: &str) -> Option<EventKey> {
    match path.split('.').try_fold(json, |value, part| value.get(part))? {
        Value::String(text) => Some(EventKey::String(text.clone())),
        Value::Number(n) => n.as_i64().map(EventKey::Long).or_else(|| n.as_f64().map(EventKey::Double)),
        Value::Bool(b) => Some(EventKey::Boolean(*b)),
        _ => None,
    }
}

/// `produce --bus kafka`: the JSON form of the event's data on `input`, produced to `topic`
/// with new metadata and keyed by the key field (`--key-field`, else the signal's); prints the
/// event id.
pub(crate) fn produce(
    connection: &KafkaConnection,
    query: &str,
    topic: &str,
    key_field: Option<&str>,
    input: &mut dyn Read,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let signal = lookup::find(query)?;
    serializable(signal)?;
    let key_field = key_field.or(signal.event_key_field());
    if let Some(path) = key_field {
        let ty = resolve_key_field(signal.data(), path).map_err(|reason| CliError::KeyField {
            path: path.to_owned(),
            event_type: signal.event_type(),
            reason: reason.to_string(),
        })?;
        if !can_key(ty) {
            return Err(CliError::KeyField {
                path: path.to_owned(),
                event_type: signal.event_type(),
                reason: format!("it names a `{ty}`, which cannot key a Kafka message"),
            });
        }
    }
    let settings = connection.settings()?;
    let event_data = json_to_avro(signal, input)?;
    let json = signal.avro_to_json(&event_data).map_err(|e| CliError::BusSettings(e.to_string()))?;
    let key = key_field.and_then(|path| key_of(&json, path));
    let metadata = signal.generate_signal_metadata(None);
    let full_topic = settings.full_topic(topic);
    let producer = KafkaProducer::new(settings.clone()).map_err(|e| bus_error(&settings, e))?;
    let message = OutgoingMessage::new(signal, topic, key_field, &event_data, &metadata).with_key(key.as_ref());
    producer.send(&message).map_err(|e| bus_error(&settings, e))?;
    let keyed = match &key {
        Some(key) => format!("key `{key}`"),
        None => "no key (no key field: Kafka spreads such messages over partitions)".to_owned(),
    };
    note(notes, &format!("produced `{}` with id {} to `{full_topic}`, {keyed}", signal.event_type(), metadata.id));
    emit(out, format!("{}\n", metadata.id).as_bytes())
}

/// What `consume --bus kafka` reads and does.
#[derive(Debug)]
pub(crate) struct KafkaConsumeOptions {
    pub(crate) topic: String,
    pub(crate) group_id: String,
    pub(crate) from_beginning: bool,
    pub(crate) webhook: Option<String>,
    /// How (see `webhook.rs`).
    pub(crate) webhook_args: WebhookArgs,
    pub(crate) max_events: Option<u64>,
}

/// `consume --bus kafka`: each event as a JSON line on stdout (written out before its offset is
/// stored) or POSTed to the webhook; until Ctrl-C or SIGTERM, or `max_events`.
pub(crate) fn consume(
    connection: &KafkaConnection,
    options: KafkaConsumeOptions,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let settings = connection.settings()?;
    let sink = Arc::new(match &options.webhook {
        Some(url) => Sink::Webhook(Box::new(Webhook::new(url, &options.webhook_args)?)),
        None => Sink::Stdout(std::sync::Mutex::new(Vec::with_capacity(1 << 12))),
    });
    let start = if options.from_beginning { StartFrom::Beginning } else { StartFrom::End };
    let mut consumer = KafkaConsumer::builder(settings.clone())
        .topic(&options.topic)
        .group_id(&options.group_id)
        .start(start)
        .build()
        .map_err(|e| bus_error(&settings, e))?;
    let shutdown = consumer.shutdown_handle();
    if let Sink::Webhook(webhook) = &*sink {
        webhook.stop_with(shutdown.clone());
    }
    if let Err(error) = stop_on_signals(shutdown.clone()) {
        note(notes, &format!("Ctrl-C will not stop the consumer cleanly: {error}"));
    }
    let progress = Arc::new(Progress { handled: AtomicU64::new(0), max: options.max_events, shutdown });
    let _receivers = BuiltInReceivers::connect(sink, Arc::clone(&progress), Flush::EachEvent);
    note(
        notes,
        &format!(
            "consuming `{}` in group `{}`; Ctrl-C stops. Events whose type has no key field have no key: Kafka spreads them over partitions, unordered between them",
            consumer.full_topic(),
            options.group_id
        ),
    );
    let stats = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                consumer.consume_indefinitely().map_err(|e| bus_error(&settings, e))?;
                Ok::<_, CliError>(consumer.stats())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    note(notes, &format!("stopped: {} delivered, {} dead-lettered", stats.delivered, stats.dead_lettered));
    Ok(())
}

/// `dead-letters --bus kafka`: the topic's dead letters as a table or JSON, or re-driven (all,
/// or those with `ids`, `partition:offset`).
pub(crate) fn dead_letters(
    connection: &KafkaConnection,
    topic: &str,
    json: bool,
    redrive: bool,
    ids: &[String],
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<(), CliError> {
    let settings = connection.settings()?;
    let full_topic = settings.full_topic(topic);
    let dead = dead_letter_topic(&full_topic);
    let letters =
        openedx_events_kafka::dead_letters(&settings, topic, usize::MAX).map_err(|e| bus_error(&settings, e))?;
    if redrive {
        if let Some(id) = ids.iter().find(|id| !letters.iter().any(|letter| letter.id() == **id)) {
            return Err(CliError::UnknownDeadLetter { id: id.clone(), stream: dead });
        }
        let chosen: Vec<DeadLetter> =
            letters.into_iter().filter(|letter| ids.is_empty() || ids.contains(&letter.id())).collect();
        let count = openedx_events_kafka::redrive(&settings, topic, &chosen).map_err(|e| bus_error(&settings, e))?;
        let plural = if count == 1 { "" } else { "s" };
        return emit(out, format!("re-drove {count} dead letter{plural} to `{full_topic}`\n").as_bytes());
    }
    if json {
        let array: Vec<Value> = letters
            .iter()
            .map(|letter| {
                json!({
                    "id": letter.id(),
                    "origin": letter.origin,
                    "event_type": letter.event_type(),
                    "event_id": letter.event_id(),
                    "attempts": letter.attempts,
                    "error": letter.error,
                })
            })
            .collect();
        return emit(out, format!("{:#}\n", Value::Array(array)).as_bytes());
    }
    if letters.is_empty() {
        note(notes, &format!("no dead letters in `{dead}`"));
        return Ok(());
    }
    let rows: Vec<[String; 5]> = letters
        .iter()
        .map(|letter| {
            [
                letter.id(),
                letter.origin.clone(),
                letter.event_type().unwrap_or("?").to_owned(),
                letter.attempts.to_string(),
                letter.error.split_whitespace().collect::<Vec<_>>().join(" "),
            ]
        })
        .collect();
    emit(out, render::aligned(["ID", "ORIGIN", "EVENT TYPE", "ATTEMPTS", "ERROR"], &rows).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_events_json() {
        let json = json!({"course": {"key": "course-v1:a+b+c", "n": 3, "x": 1.5, "on": true, "none": null}});
        assert_eq!(key_of(&json, "course.key"), Some(EventKey::String("course-v1:a+b+c".into())));
        assert_eq!(key_of(&json, "course.n"), Some(EventKey::Long(3)));
        assert_eq!(key_of(&json, "course.x"), Some(EventKey::Double(1.5)));
        assert_eq!(key_of(&json, "course.on"), Some(EventKey::Boolean(true)));
        assert_eq!(key_of(&json, "course.none"), None);
        assert_eq!(key_of(&json, "course.missing"), None);
    }
}
