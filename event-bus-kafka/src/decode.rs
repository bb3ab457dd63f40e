//! From a message's value to the Avro bytes the local signal decodes: the framing's schema id
//! names the writer's schema, fetched from the registry (cached); when it is the local schema the
//! bytes are used as they are, otherwise they are resolved from the writer's schema to the local
//! one by Avro's rules (fields added with defaults, fields removed, promotions), as upstream's
//! `AvroDeserializer` does.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use apache_avro::Schema;
use openedx_events::AnySignal;
use openedx_events::event_bus::UnusableMessage;

use crate::registry::{RegistryError, SchemaRegistry};

/// How bytes written with one schema id become bytes of one local signal's schema.
#[derive(Debug)]
pub(crate) enum Plan {
    /// The writer's schema is the local one: the bytes are used as they are.
    Identical,
    /// The schemas differ: resolve (writer, reader).
    Resolve(Box<(Schema, Schema)>),
}

/// Why a value could not be turned into local Avro bytes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeFailure {
    /// The message can never be decoded (no such schema, incompatible schemas, bad bytes).
    #[error(transparent)]
    Unusable(#[from] UnusableMessage),
    /// The registry could not be asked; trying again later may work.
    #[error(transparent)]
    Registry(RegistryError),
}

/// The plans, by (schema id, event type); shared by the consumers of a process.
#[derive(Debug, Default, Clone)]
pub(crate) struct Plans(Arc<Mutex<HashMap<PlanKey, Arc<Plan>>>>);

/// A schema id and the event type reading it.
type PlanKey = (u32, &'static str);

/// The plan of the last (schema id, event type) a consumer read: consecutive messages mostly
/// share both, so most messages find their plan here, without the shared map's lock and hash.
#[derive(Debug, Default)]
pub(crate) struct LastPlan(Option<(u32, &'static str, Arc<Plan>)>);

impl LastPlan {
    /// The plan, if the last message had the same schema id and event type.
    pub(crate) fn get(&self, id: u32, signal: &'static dyn AnySignal) -> Option<&Arc<Plan>> {
        match &self.0 {
            Some((last_id, event_type, plan)) if *last_id == id && *event_type == signal.event_type() => Some(plan),
            _ => None,
        }
    }

    /// Remembers the plan of this message.
    pub(crate) fn set(&mut self, id: u32, signal: &'static dyn AnySignal, plan: &Arc<Plan>) {
        self.0 = Some((id, signal.event_type(), Arc::clone(plan)));
    }
}

impl Plans {
    pub(crate) fn cached(&self, id: u32, signal: &'static dyn AnySignal) -> Option<Arc<Plan>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&(id, signal.event_type())).cloned()
    }

    /// The plan for bytes of schema `id` read by `signal`, given the writer's schema text.
    pub(crate) fn make(
        &self,
        id: u32,
        signal: &'static dyn AnySignal,
        writer: &str,
    ) -> Result<Arc<Plan>, UnusableMessage> {
        let local = signal.avro_schema().map_err(|e| UnusableMessage(e.to_string()))?;
        let plan = if writer == local {
            Plan::Identical
        } else {
            let writer_schema = Schema::parse_str(writer)
                .map_err(|e| UnusableMessage(format!("the writer's schema {id} does not parse: {e}")))?;
            let reader_schema = Schema::parse_str(local).map_err(|e| {
                UnusableMessage(format!("the local schema of `{}` does not parse: {e}", signal.event_type()))
            })?;
            if writer_schema.canonical_form() == reader_schema.canonical_form() {
                Plan::Identical
            } else {
                Plan::Resolve(Box::new((writer_schema, reader_schema)))
            }
        };
        let plan = Arc::new(plan);
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert((id, signal.event_type()), Arc::clone(&plan));
        Ok(plan)
    }

    /// The local Avro bytes of `avro`, written with schema `id`, fetching the writer's schema
    /// from the registry when this pair has no plan yet (a blocking request).
    pub(crate) fn local_bytes<'a>(
        &self,
        last: &mut LastPlan,
        registry: &SchemaRegistry,
        id: u32,
        signal: &'static dyn AnySignal,
        avro: &'a [u8],
    ) -> Result<Cow<'a, [u8]>, DecodeFailure> {
        if let Some(plan) = last.get(id, signal) {
            return Ok(apply(plan, id, avro)?);
        }
        let plan = match self.cached(id, signal) {
            Some(plan) => plan,
            None => {
                let writer = registry.schema(id).map_err(registry_failure)?;
                self.make(id, signal, &writer)?
            }
        };
        last.set(id, signal, &plan);
        Ok(apply(&plan, id, avro)?)
    }
}

/// An unknown schema id makes the message unusable; other registry failures may pass.
pub(crate) fn registry_failure(error: RegistryError) -> DecodeFailure {
    match error {
        RegistryError::UnknownId(_) => DecodeFailure::Unusable(UnusableMessage(error.to_string())),
        other if !other.is_retryable() => DecodeFailure::Unusable(UnusableMessage(other.to_string())),
        other => DecodeFailure::Registry(other),
    }
}

/// Applies a plan to the bytes.
pub(crate) fn apply<'a>(plan: &Plan, id: u32, avro: &'a [u8]) -> Result<Cow<'a, [u8]>, UnusableMessage> {
    match plan {
        Plan::Identical => Ok(Cow::Borrowed(avro)),
        Plan::Resolve(schemas) => {
            let (writer, reader) = &**schemas;
            let unreadable = |e: apache_avro::Error| {
                UnusableMessage(format!("the data written with schema {id} cannot be read with the local schema: {e}"))
            };
            let mut input = avro;
            let value = apache_avro::reader::datum::GenericDatumReader::builder(writer)
                .reader_schema(reader)
                .build()
                .and_then(|datum_reader| datum_reader.read_value(&mut input))
                .map_err(unreadable)?;
            let bytes = apache_avro::writer::datum::GenericDatumWriter::builder(reader)
                .build()
                .and_then(|datum_writer| datum_writer.write_value_to_vec(value))
                .map_err(|e| {
                    UnusableMessage(format!("the data resolved from schema {id} cannot be re-encoded: {e}"))
                })?;
            Ok(Cow::Owned(bytes))
        }
    }
}
