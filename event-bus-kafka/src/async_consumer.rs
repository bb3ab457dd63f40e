//! [`AsyncKafkaConsumer`]: the consumer on tokio, with every guarantee of the blocking
//! [`KafkaConsumer`](crate::KafkaConsumer): offsets stored only after dispatch or dead-lettering,
//! committed before a rebalance and on stopping, retries with back-off, dead letters, schema
//! resolution. It dispatches to synchronous and async receivers (the core's `deliver_async`) and
//! never blocks a runtime thread: registry requests, dead letters and the final commit run on the
//! blocking pool.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;

use futures::FutureExt as _;
use openedx_events::event_bus::{ConsumeError, Delivery, deliver_with_retries_async};
use rdkafka::Offset;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;

use crate::close::Closing;
use crate::consumer::{
    CommitOnRevoke, ConsumerStats, Incoming, KafkaConsumerBuilder, Outcome, Parts, commit_stored, parse,
};
use crate::decode::{DecodeFailure, apply, registry_failure};
use crate::producer::send_and_wait;

/// Consumes one topic as a member of a consumer group, on tokio; built with
/// [`KafkaConsumerBuilder::build_async`].
///
/// ```no_run
/// use openedx_events_kafka::{KafkaConsumer, KafkaSettings, StartFrom};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut consumer = KafkaConsumer::builder(KafkaSettings::from_env()?)
///     .topic("course-enrollment")
///     .group_id("my-service")
///     .start(StartFrom::End)
///     .build_async()?;
/// // Stops on Ctrl-C, once the message in hand is done.
/// consumer.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(())
/// # }
/// ```
pub struct AsyncKafkaConsumer {
    consumer: Arc<Closing<StreamConsumer<CommitOnRevoke>>>,
    parts: Parts,
}

impl std::fmt::Debug for AsyncKafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncKafkaConsumer")
            .field("topic", &self.parts.full_topic)
            .field("group_id", &self.parts.group_id)
            .field("stats", &self.parts.stats)
            .finish_non_exhaustive()
    }
}

impl KafkaConsumerBuilder {
    /// The async consumer (on tokio). Creating it asks the brokers for the topic's metadata (and
    /// creates the dead-letter topic when missing), so call it where blocking briefly is fine, or
    /// in `spawn_blocking`.
    pub fn build_async(self) -> Result<AsyncKafkaConsumer, ConsumeError> {
        let (parts, config, context) = self.parts(CommitOnRevoke)?;
        let consumer: StreamConsumer<CommitOnRevoke> = config
            .create_with_context(context)
            .map_err(|e| ConsumeError::NotConfigured(format!("the Kafka consumer cannot be created: {e}")))?;
        parts.prepare(&consumer)?;
        consumer.subscribe(&[&parts.full_topic]).map_err(|e| ConsumeError::backend(true, e))?;
        let consumer = Arc::new(Closing::new(consumer, &parts.full_topic));
        Ok(AsyncKafkaConsumer { consumer, parts })
    }
}

impl AsyncKafkaConsumer {
    /// What this consumer did so far.
    pub fn stats(&self) -> ConsumerStats {
        self.parts.stats
    }

    /// The full topic.
    pub fn full_topic(&self) -> &str {
        &self.parts.full_topic
    }

    /// Consumes until `shutdown` completes (the message in hand is finished first), or until the
    /// consecutive-error limit or a fatal error; the stored offsets are committed before it
    /// returns.
    pub async fn run(&mut self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ConsumeError> {
        let mut shutdown = pin!(shutdown.fuse());
        let mut errors = 0u32;
        let result = loop {
            let step = futures::select_biased! {
                () = shutdown => break Ok(()),
                step = self.consume_one().fuse() => step,
            };
            match step {
                Ok(()) => errors = 0,
                Err(error) => {
                    if matches!(error, KafkaError::MessageConsumptionFatal(_)) {
                        break Err(ConsumeError::backend(false, error));
                    }
                    errors += 1;
                    tracing::error!(
                        "Error consuming event from Kafka: {error} in context full_topic={}, consumer_group={}",
                        self.parts.full_topic,
                        self.parts.group_id
                    );
                    if let Some(limit) = self.parts.settings.consecutive_errors_limit
                        && errors >= limit
                    {
                        break Err(ConsumeError::TooManyErrors { count: errors, last: Box::new(error) });
                    }
                    tokio::time::sleep(self.parts.settings.poll_failure_sleep).await;
                }
            }
        };
        let consumer = Arc::clone(&self.consumer);
        let _ = tokio::task::spawn_blocking(move || commit_stored(&**consumer, "when stopping")).await;
        result
    }

    /// Waits for one message and handles it.
    async fn consume_one(&mut self) -> Result<(), KafkaError> {
        let consumer = Arc::clone(&self.consumer);
        let message = consumer.recv().await?;
        let incoming = Incoming::of(&message);
        match self.handle(&incoming).await {
            Outcome::Done => consumer.store_offset_from_message(&message),
            Outcome::Left => Ok(()),
            Outcome::Rewind(reason) => {
                self.parts.stats.rewound += 1;
                tracing::warn!(
                    "cannot finish the message at {}:{}:{}, reading it again: {reason}",
                    incoming.topic,
                    incoming.partition,
                    incoming.offset
                );
                // A seek is local to librdkafka (no request), so it does not hold the thread.
                if let Err(error) =
                    consumer.seek(incoming.topic, incoming.partition, Offset::Offset(incoming.offset), None)
                {
                    tracing::error!("cannot rewind to the unfinished message, stopping: {error}");
                    return Err(KafkaError::MessageConsumptionFatal(rdkafka::error::RDKafkaErrorCode::Fail));
                }
                Err(KafkaError::Seek(reason))
            }
        }
    }

    async fn handle(&mut self, incoming: &Incoming<'_>) -> Outcome {
        let parsed = match parse(incoming, &mut self.parts.signals) {
            Ok(parsed) => parsed,
            Err(unusable) => return self.dead_letter(incoming, &unusable.to_string(), 0).await,
        };
        let signal = parsed.event.signal();
        let cached = self.parts.last_plan.get(parsed.schema_id, signal).cloned();
        let plan = match cached.or_else(|| self.parts.plans.cached(parsed.schema_id, signal)) {
            Some(plan) => Ok(plan),
            None => match self.parts.registry.schema_async(parsed.schema_id).await {
                Ok(writer) => self.parts.plans.make(parsed.schema_id, signal, &writer).map_err(DecodeFailure::Unusable),
                Err(error) => Err(registry_failure(error)),
            },
        };
        if let Ok(plan) = &plan {
            self.parts.last_plan.set(parsed.schema_id, signal, plan);
        }
        let avro = match plan.and_then(|plan| Ok(apply(&plan, parsed.schema_id, parsed.avro)?)) {
            Ok(avro) => avro,
            Err(DecodeFailure::Unusable(unusable)) => {
                return self.dead_letter(incoming, &unusable.to_string(), 0).await;
            }
            Err(DecodeFailure::Registry(error)) => return Outcome::Rewind(error.to_string()),
        };
        let shutdown = self.parts.shutdown.clone();
        let event = parsed.event;
        let (delivery, attempts) =
            deliver_with_retries_async(|| event.deliver_async(&avro), &self.parts.settings.retry, &mut || {
                shutdown.is_shutdown()
            })
            .await;
        match delivery {
            Delivery::Delivered(_) => {
                self.parts.stats.delivered += 1;
                Outcome::Done
            }
            Delivery::ReceiversFailed(_)
                if self.parts.shutdown.is_shutdown() && attempts < self.parts.settings.retry.max_attempts =>
            {
                Outcome::Left
            }
            Delivery::ReceiversFailed(reason) => self.dead_letter(incoming, &reason, attempts).await,
            Delivery::Unusable(unusable) => self.dead_letter(incoming, &unusable.to_string(), attempts).await,
            Delivery::Refused(reason) => self.dead_letter(incoming, &reason, attempts).await,
        }
    }

    async fn dead_letter(&mut self, incoming: &Incoming<'_>, reason: &str, attempts: u32) -> Outcome {
        let letter = self.parts.letter(incoming, reason, attempts);
        let producer = Arc::clone(&self.parts.dead_letters);
        let (key, value) = (incoming.key.map(<[u8]>::to_vec), incoming.value.map(<[u8]>::to_vec));
        let timeout = self.parts.settings.delivery_timeout;
        let topic = letter.topic.clone();
        let sent = tokio::task::spawn_blocking(move || {
            send_and_wait(&producer, &letter.topic, key.as_deref(), value.as_deref(), letter.headers, timeout)
        })
        .await
        .unwrap_or(Err(KafkaError::Canceled));
        self.parts.dead_lettered(&topic, sent)
    }
}
