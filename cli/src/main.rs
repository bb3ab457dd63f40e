//! `openedx-events`: list, inspect, encode and decode Open edX events from a shell, and (with the
//! `redis` feature, on by default) produce and consume them on the event bus.
//!
//! Every event of `openedx-events-catalog` is known to the command. `docs/reference/cli.md` is
//! its user reference; this file parses the arguments and hands each command to
//! [`commands`].
#![forbid(unsafe_code)]

#[cfg(feature = "redis")]
mod bus;
mod commands;
#[cfg(feature = "redis")]
mod console;
mod error;
mod hex;
#[cfg(feature = "kafka")]
mod kafka;
mod lookup;
#[cfg(feature = "outbox")]
mod relay;
mod render;
#[cfg(feature = "redis")]
mod webhook;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
// Links the catalog, so that every upstream event is in the registry the commands read.
use openedx_events_catalog as _;

use crate::error::CliError;

/// List, inspect, encode and decode Open edX events, and produce and consume them on the event bus.
///
/// EVENT is an event type (`org.openedx.learning.course.enrollment.created.v1`) or a signal name
/// (`COURSE_ENROLLMENT_CREATED`).
#[derive(Debug, Parser)]
#[command(name = "openedx-events", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every event: type, signal name, subdomain, minor version, key field, serializable
    List {
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Describe an event: its data as a tree, key field, versions and Avro schema
    Show {
        /// The event type or signal name
        event: String,
    },
    /// Print an event's Avro schema, as upstream's serializer gives it
    Schema {
        /// The event type or signal name
        event: String,
    },
    /// Write every event's Avro schema as a `.avsc` file, as upstream's generator does
    Schemas {
        /// The folder to write to; created if missing
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Read an event's data as JSON on stdin and write it as Avro on stdout
    Encode {
        /// The event type or signal name
        event: String,
        /// Write hex text instead of raw bytes
        #[arg(long)]
        hex: bool,
    },
    /// Read an event's data as Avro on stdin and print it as JSON
    Decode {
        /// The event type or signal name
        event: String,
        /// Read hex text instead of raw bytes
        #[arg(long)]
        hex: bool,
    },
    /// Write the event reference page (Markdown)
    Docs {
        /// Where to write it; `-` for stdout
        #[arg(long, value_name = "PATH", default_value = "docs/reference/events.md")]
        out: PathBuf,
    },
    /// Produce an event to the event bus, its data read as JSON on stdin; prints the stream entry id
    #[cfg(feature = "redis")]
    Produce {
        /// The event type or signal name
        event: String,
        /// The topic, without the prefix
        #[arg(long)]
        topic: String,
        /// Checked to lead to a field of the event's data, as upstream's producer checks it
        #[arg(long, value_name = "PATH")]
        key_field: Option<String>,
        #[command(flatten)]
        bus: BusArgs,
    },
    /// Consume a topic: print each event as a JSON line, or POST it to a webhook
    #[cfg(feature = "redis")]
    Consume {
        /// The topic, without the prefix
        #[arg(long)]
        topic: String,
        /// The consumer group
        #[arg(long, value_name = "GROUP")]
        group_id: String,
        /// The consumer's name in the group, unique in it and the same across restarts [default: the host name]
        #[arg(long, value_name = "NAME")]
        consumer_name: Option<String>,
        /// A new group starts at the first message of the stream, not after the last
        #[arg(long, conflicts_with = "from_id")]
        from_beginning: bool,
        /// A new group starts after this stream entry id; an existing group is moved there
        #[arg(long, value_name = "ID")]
        from_id: Option<String>,
        /// POST each event to this URL instead of printing it (a CloudEvent; see the `--webhook-*` options)
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        #[command(flatten)]
        webhook_args: webhook::WebhookArgs,
        /// Stop after this many events were printed or posted
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_events: Option<u64>,
        #[command(flatten)]
        bus: BusArgs,
    },
    /// List a topic's dead letters, or re-drive them to the topic
    #[cfg(feature = "redis")]
    DeadLetters {
        /// The topic, without the prefix
        #[arg(long)]
        topic: String,
        /// Print a JSON array instead of a table
        #[arg(long, conflicts_with = "redrive")]
        json: bool,
        /// Produce the dead letters again to the topic and remove them from the dead-letter stream
        #[arg(long)]
        redrive: bool,
        /// Re-drive only the dead letter with this id (repeatable)
        #[arg(long = "id", value_name = "ID", requires = "redrive")]
        ids: Vec<String>,
        #[command(flatten)]
        bus: BusArgs,
    },
    /// Serve the operator console: topics, consumer groups, events and dead letters in a browser
    #[cfg(feature = "redis")]
    Console {
        /// Where to listen, HOST:PORT; port 0 picks a free one
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8765")]
        listen: String,
        /// Allow listening on an address other than loopback
        #[arg(long)]
        allow_remote: bool,
        /// Allow re-driving and deleting dead letters, with the token (printed at start, or $OPENEDX_EVENTS_CONSOLE_TOKEN)
        #[arg(long)]
        allow_changes: bool,
        /// Also show the Kafka topics of these brokers, `host:port[,host:port]` [default: $EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS]
        #[cfg(feature = "kafka")]
        #[arg(long, value_name = "SERVERS")]
        kafka_bootstrap_servers: Option<String>,
        /// Also show the depth of the transactional outbox (rows waiting, parked, the oldest's age)
        #[cfg(feature = "outbox")]
        #[arg(long)]
        outbox: bool,
        /// The outbox's PostgreSQL URL, with --outbox [default: $DATABASE_URL]
        #[cfg(feature = "outbox")]
        #[arg(long, value_name = "URL", requires = "outbox")]
        database_url: Option<String>,
        #[command(flatten)]
        bus: BusArgs,
    },
    /// Publish the transactional outbox's rows to the bus, in order per key; `--status` shows what waits
    #[cfg(feature = "outbox")]
    Relay {
        /// The PostgreSQL URL [default: $DATABASE_URL]
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Relay only this topic (repeatable) [default: every topic]
        #[arg(long = "topic", value_name = "TOPIC")]
        topics: Vec<String>,
        /// Rows read and produced per batch
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
        /// Failures of a row the bus rejects before it is parked
        #[arg(long, default_value_t = 5)]
        max_attempts: u32,
        /// Keep published rows this many seconds before purging them [default: delete at once]
        #[arg(long, value_name = "SECONDS")]
        retention: Option<u64>,
        /// Print the outbox's depth, parked rows and oldest row's age per topic, and exit
        #[arg(long)]
        status: bool,
        /// With --status: print JSON
        #[arg(long, requires = "status")]
        json: bool,
        /// Put every parked row back in line, and exit
        #[arg(long, conflicts_with = "status")]
        redrive: bool,
        /// Create (or update) the outbox table first, with the outbox's migrations
        #[arg(long)]
        migrate: bool,
        #[command(flatten)]
        bus: BusArgs,
    },
}

/// Where the event bus is: the bus commands' shared options.
#[cfg(feature = "redis")]
#[derive(Debug, clap::Args)]
struct BusArgs {
    /// The Redis URL, `redis://[[user]:[password]@]host:port/db` [default: $EVENT_BUS_REDIS_CONNECTION_URL]
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
    /// Prefixed to the topic as `PREFIX-TOPIC`; empty for none [default: $EVENT_BUS_TOPIC_PREFIX]
    #[arg(long, value_name = "PREFIX")]
    topic_prefix: Option<String>,
    /// Which event bus: Redis Streams, or Kafka with a schema registry
    #[cfg(feature = "kafka")]
    #[arg(long, value_enum, default_value = "redis")]
    bus: BusKind,
    /// Kafka's brokers, `host:port[,...]` [default: $EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS]
    #[cfg(feature = "kafka")]
    #[arg(long, value_name = "SERVERS")]
    bootstrap_servers: Option<String>,
    /// Kafka's schema registry [default: $EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL]
    #[cfg(feature = "kafka")]
    #[arg(long, value_name = "URL")]
    schema_registry_url: Option<String>,
}

/// `--bus`.
#[cfg(feature = "kafka")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BusKind {
    /// Redis Streams (`edx-event-bus-redis`)
    Redis,
    /// Kafka (`edx-event-bus-kafka`)
    Kafka,
}

#[cfg(feature = "kafka")]
impl BusArgs {
    /// The Kafka connection, when `--bus kafka`.
    fn kafka(&self) -> Option<kafka::KafkaConnection> {
        (self.bus == BusKind::Kafka).then(|| kafka::KafkaConnection {
            bootstrap_servers: self.bootstrap_servers.clone(),
            schema_registry_url: self.schema_registry_url.clone(),
            topic_prefix: self.topic_prefix.clone(),
        })
    }
}

#[cfg(feature = "redis")]
impl From<BusArgs> for bus::Connection {
    fn from(args: BusArgs) -> Self {
        bus::Connection { redis_url: args.redis_url, topic_prefix: args.topic_prefix }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` arrive here too, and exit 0.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(error::USAGE));
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped reading (`openedx-events list | head`) is not a failure.
        Err(CliError::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn run(command: Command) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    match command {
        Command::List { json } => commands::list(json, &mut stdout),
        Command::Show { event } => commands::show(&event, &mut stdout),
        Command::Schema { event } => commands::schema(&event, &mut stdout),
        Command::Schemas { out } => commands::schemas(&out, &mut stderr),
        Command::Encode { event, hex } => commands::encode(&event, hex, &mut io::stdin().lock(), &mut stdout),
        Command::Decode { event, hex } => commands::decode(&event, hex, &mut io::stdin().lock(), &mut stdout),
        Command::Docs { out } => commands::docs(&out, &mut stdout, &mut stderr),
        #[cfg(feature = "kafka")]
        Command::Produce { event, topic, key_field, bus } if bus.kafka().is_some() => kafka::produce(
            &bus.kafka().unwrap_or_default(),
            &event,
            &topic,
            key_field.as_deref(),
            &mut io::stdin().lock(),
            &mut stdout,
            &mut stderr,
        ),
        #[cfg(feature = "kafka")]
        Command::Consume { topic, group_id, from_beginning, webhook, webhook_args, max_events, bus, .. }
            if bus.kafka().is_some() =>
        {
            let options =
                kafka::KafkaConsumeOptions { topic, group_id, from_beginning, webhook, webhook_args, max_events };
            drop((stdout, stderr));
            kafka::consume(&bus.kafka().unwrap_or_default(), options, &mut io::stderr())
        }
        #[cfg(feature = "kafka")]
        Command::DeadLetters { topic, json, redrive, ids, bus } if bus.kafka().is_some() => {
            kafka::dead_letters(&bus.kafka().unwrap_or_default(), &topic, json, redrive, &ids, &mut stdout, &mut stderr)
        }
        #[cfg(feature = "redis")]
        Command::Produce { event, topic, key_field, bus } => bus::produce(
            &bus.into(),
            &event,
            &topic,
            key_field.as_deref(),
            &mut io::stdin().lock(),
            &mut stdout,
            &mut stderr,
        ),
        #[cfg(feature = "redis")]
        Command::Consume {
            topic,
            group_id,
            consumer_name,
            from_beginning,
            from_id,
            webhook,
            webhook_args,
            max_events,
            bus,
        } => {
            let start = match (from_beginning, from_id) {
                (_, Some(id)) => bus::StartFrom::Id(id),
                (true, None) => bus::StartFrom::Beginning,
                (false, None) => bus::StartFrom::End,
            };
            let options =
                bus::ConsumeOptions { topic, group_id, consumer_name, start, webhook, webhook_args, max_events };
            // The consumer's thread prints events and progress itself, a line at a time, as they
            // come: this thread must not hold the locks meanwhile.
            drop((stdout, stderr));
            bus::consume(&bus.into(), options, &mut io::stderr())
        }
        #[cfg(feature = "redis")]
        Command::DeadLetters { topic, json, redrive, ids, bus } => {
            bus::dead_letters(&bus.into(), &topic, json, redrive, &ids, &mut stdout, &mut stderr)
        }
        #[cfg(feature = "redis")]
        Command::Console {
            listen,
            allow_remote,
            allow_changes,
            #[cfg(feature = "kafka")]
            kafka_bootstrap_servers,
            #[cfg(feature = "outbox")]
            outbox,
            #[cfg(feature = "outbox")]
            database_url,
            bus,
        } => {
            let options = console::ConsoleOptions {
                listen,
                allow_remote,
                allow_changes,
                #[cfg(feature = "kafka")]
                kafka_bootstrap_servers,
                #[cfg(feature = "outbox")]
                outbox: outbox.then_some(database_url),
            };
            // The server's threads write audit lines to stderr: this one must not hold its lock.
            drop((stdout, stderr));
            console::console(&bus.into(), &options, &mut io::stderr())
        }
        #[cfg(feature = "outbox")]
        Command::Relay {
            database_url,
            topics,
            batch_size,
            max_attempts,
            retention,
            status,
            json,
            redrive,
            migrate,
            bus,
        } => {
            let options = relay::RelayOptions {
                database_url,
                topics,
                batch_size,
                max_attempts,
                retention,
                status,
                json,
                redrive,
                migrate,
            };
            #[cfg(feature = "kafka")]
            let target = match bus.kafka() {
                Some(kafka) => relay::RelayBus::Kafka(kafka),
                None => relay::RelayBus::Redis(bus.into()),
            };
            #[cfg(not(feature = "kafka"))]
            let target = relay::RelayBus::Redis(bus.into());
            relay::relay(&target, &options, &mut stdout, &mut stderr)
        }
    }
}
