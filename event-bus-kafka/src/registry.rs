//! [`SchemaRegistry`]: the little of Confluent's Schema Registry REST API the bus needs, over a
//! blocking HTTP client: register a schema under a subject (which gives its id), and fetch a
//! schema by id. Both are cached, so each schema costs one request per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::settings::{KafkaSettings, Secret};

/// How long one registry request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The content type the registry speaks.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Why the schema registry could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No registry URL is configured.
    #[error("no schema registry (set EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL)")]
    NotConfigured,
    /// The registry could not be reached, or the connection failed.
    #[error("the schema registry at {url} cannot be reached: {source}")]
    Transport {
        /// The registry's URL.
        url: String,
        /// What the HTTP client said.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The registry answered with an error status.
    #[error("the schema registry answered {status} to {what}: {body}")]
    Status {
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// The registry has no schema of this id.
    #[error("the schema registry has no schema with id {0}")]
    UnknownId(u32),
    /// The registry's answer is not what its API promises.
    #[error("the schema registry's answer to {what} is not understood: {reason}")]
    BadResponse {
        /// What was asked.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl RegistryError {
    /// Whether asking again later may succeed: the registry was unreachable, or answered with a
    /// server error (5xx) or a rate limit (429).
    pub fn is_retryable(&self) -> bool {
        match self {
            RegistryError::Transport { .. } => true,
            RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
            RegistryError::NotConfigured | RegistryError::UnknownId(_) | RegistryError::BadResponse { .. } => false,
        }
    }
}

/// A Confluent Schema Registry client with caches. Cheap to clone (the caches are shared).
#[derive(Clone)]
pub struct SchemaRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    auth: Option<String>,
    agent: ureq::Agent,
    /// (subject, schema) → id.
    registered: Mutex<HashMap<(String, String), u32>>,
    /// id → schema.
    schemas: Mutex<HashMap<u32, Arc<str>>>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry")
            .field("url", &self.inner.url)
            .field("auth", &self.inner.auth.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl SchemaRegistry {
    /// A client of the registry at `url`, with basic auth when `api_key` is given (upstream sends
    /// `{key}:{secret}`).
    pub fn new(url: impl Into<String>, api_key: Option<&str>, api_secret: Option<&Secret>) -> Self {
        let url = url.into().trim_end_matches('/').to_owned();
        let auth = api_key.map(|key| {
            let secret = api_secret.map_or("", Secret::expose);
            format!("Basic {}", base64(format!("{key}:{secret}").as_bytes()))
        });
        let config =
            ureq::Agent::config_builder().timeout_global(Some(REQUEST_TIMEOUT)).http_status_as_error(false).build();
        SchemaRegistry {
            inner: Arc::new(Inner {
                url,
                auth,
                agent: ureq::Agent::new_with_config(config),
                registered: Mutex::new(HashMap::new()),
                schemas: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The client the settings describe.
    pub fn from_settings(settings: &KafkaSettings) -> Result<Self, RegistryError> {
        let url = settings.schema_registry_url.as_deref().ok_or(RegistryError::NotConfigured)?;
        Ok(SchemaRegistry::new(
            url,
            settings.schema_registry_api_key.as_deref(),
            settings.schema_registry_api_secret.as_ref(),
        ))
    }

    /// The registry's URL.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Registers `schema` under `subject` (`POST /subjects/{subject}/versions`) and returns its
    /// id; a schema registered before under the same subject keeps its id. Cached per process.
    pub fn register(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let cache_key = (subject.to_owned(), schema.to_owned());
        if let Some(id) = self.inner.registered.lock().unwrap_or_else(PoisonError::into_inner).get(&cache_key) {
            return Ok(*id);
        }
        let what = format!("registering a schema under `{subject}`");
        let body = serde_json::json!({ "schema": schema }).to_string();
        let url = format!("{}/subjects/{}/versions", self.inner.url, path_segment(subject));
        let mut request = self.inner.agent.post(&url).header("Content-Type", CONTENT_TYPE);
        if let Some(auth) = &self.inner.auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send(body.as_bytes()).map_err(|e| self.transport(e))?;
        let answer = self.answer(&what, response)?;
        let id =
            answer.get("id").and_then(serde_json::Value::as_u64).and_then(|id| u32::try_from(id).ok()).ok_or_else(
                || RegistryError::BadResponse { what: what.clone(), reason: format!("no schema id in {answer}") },
            )?;
        self.inner.registered.lock().unwrap_or_else(PoisonError::into_inner).insert(cache_key, id);
        self.inner.schemas.lock().unwrap_or_else(PoisonError::into_inner).entry(id).or_insert_with(|| schema.into());
        Ok(id)
    }

    /// The schema of this id (`GET /schemas/ids/{id}`). Cached per process: a schema id never
    /// changes its schema.
    pub fn schema(&self, id: u32) -> Result<Arc<str>, RegistryError> {
        if let Some(schema) = self.cached_schema(id) {
            return Ok(schema);
        }
        let what = format!("fetching schema {id}");
        let url = format!("{}/schemas/ids/{id}", self.inner.url);
        let mut request = self.inner.agent.get(&url).header("Accept", CONTENT_TYPE);
        if let Some(auth) = &self.inner.auth {
            request = request.header("Authorization", auth);
        }
        let response = request.call().map_err(|e| self.transport(e))?;
        if response.status().as_u16() == 404 {
            return Err(RegistryError::UnknownId(id));
        }
        let answer = self.answer(&what, response)?;
        let schema: Arc<str> = answer
            .get("schema")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| RegistryError::BadResponse { what, reason: format!("no schema in {answer}") })?
            .into();
        self.inner.schemas.lock().unwrap_or_else(PoisonError::into_inner).insert(id, Arc::clone(&schema));
        Ok(schema)
    }

    /// The schema of this id if it was fetched or registered before; no request.
    pub fn cached_schema(&self, id: u32) -> Option<Arc<str>> {
        self.inner.schemas.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }

    /// [`schema`](Self::schema) without blocking an async runtime's worker: the request runs on
    /// tokio's blocking pool (a cached schema is returned at once).
    #[cfg(feature = "tokio")]
    pub async fn schema_async(&self, id: u32) -> Result<Arc<str>, RegistryError> {
        if let Some(schema) = self.cached_schema(id) {
            return Ok(schema);
        }
        let registry = self.clone();
        match tokio::task::spawn_blocking(move || registry.schema(id)).await {
            Ok(result) => result,
            Err(join) => Err(RegistryError::BadResponse {
                what: format!("fetching schema {id}"),
                reason: format!("the request's task failed: {join}"),
            }),
        }
    }

    fn transport(&self, error: ureq::Error) -> RegistryError {
        RegistryError::Transport { url: self.inner.url.clone(), source: Box::new(error) }
    }

    fn answer(
        &self,
        what: &str,
        mut response: ureq::http::Response<ureq::Body>,
    ) -> Result<serde_json::Value, RegistryError> {
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| self.transport(e))?;
        if !(200..300).contains(&status) {
            let body: String = text.chars().take(300).collect();
            return Err(RegistryError::Status { what: what.to_owned(), status, body });
        }
        serde_json::from_str(&text)
            .map_err(|e| RegistryError::BadResponse { what: what.to_owned(), reason: format!("not JSON: {e}") })
    }
}

/// A subject as one URL path segment: unreserved characters as they are, the rest
/// percent-encoded.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Standard base64 with padding, for the basic-auth header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn subjects_are_one_path_segment() {
        assert_eq!(path_segment("dev-topic-org.openedx.x.v1.CloudEvent"), "dev-topic-org.openedx.x.v1.CloudEvent");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn debug_hides_the_credentials() {
        let registry = SchemaRegistry::new("http://localhost:8081/", Some("user"), Some(&Secret::new("hunter2")));
        let shown = format!("{registry:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("dXNlcjpodW50ZXIy"), "{shown}");
        assert_eq!(registry.url(), "http://localhost:8081");
    }

    #[test]
    fn an_unreachable_registry_is_retryable() {
        let registry = SchemaRegistry::new("http://127.0.0.1:9", None, None);
        let error = registry.schema(1).expect_err("nothing listens on port 9");
        assert!(error.is_retryable(), "{error}");
    }
}
