//! `openedx-events`: list, inspect, encode and decode Open edX events from a shell.
//!
//! Every event of `openedx-events-catalog` is known to the command. `docs/reference/cli.md` is
//! its user reference; this file parses the arguments and hands each command to
//! [`commands`].
#![forbid(unsafe_code)]

mod commands;
mod error;
mod hex;
mod lookup;
mod render;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
// Links the catalog, so that every upstream event is in the registry the commands read.
use openedx_events_catalog as _;

use crate::error::CliError;

/// List, inspect, encode and decode Open edX events.
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
    }
}
