//! An event as an HTTP request body and headers: CloudEvents 1.0 over HTTP in binary or
//! structured mode, or the CLI's original JSON shape.
//!
//! The mapping follows the CloudEvents HTTP protocol binding, version 1.0.2:
//! <https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md>.
//!
//! - Binary mode (§3.1): every context attribute is a `ce-` header, the data is the body, and
//!   `Content-Type` carries the data's media type (`application/json`), so there is no
//!   `ce-datacontenttype` header (§3.1.1). Header values are percent-encoded as §3.1.3.2 asks.
//! - Structured mode (§3.2): the whole event is a JSON object in the body, with
//!   `Content-Type: application/cloudevents+json` (the JSON event format, `json-format.md`).
//!
//! Open edX metadata maps onto CloudEvents as upstream's Kafka event bus maps it onto its
//! `ce_` headers: `id`, `source`, `type`, `time`, and the extensions `minorversion`,
//! `sourcehost` and `sourcelib`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::SecondsFormat;
use openedx_events::EventsMetadata;
use serde_json::{Map, Value, json};

/// The CloudEvents specification version this crate speaks.
pub const SPEC_VERSION: &str = "1.0";
/// The media type of a structured-mode body.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json";
/// The media type of the data (binary mode's `Content-Type`, structured mode's
/// `datacontenttype`) and of the JSON shape.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// How an event is put into an HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// CloudEvents binary mode: attributes as `ce-` headers, the data as the JSON body.
    #[default]
    Binary,
    /// CloudEvents structured mode: the event as one `application/cloudevents+json` body.
    Structured,
    /// `{"metadata": …, "data": …}`, the metadata in upstream's JSON form: what
    /// `openedx-events consume --webhook` sent before CloudEvents.
    Json,
}

impl WebhookFormat {
    /// The name on the command line: `binary`, `structured` or `json`.
    pub fn name(self) -> &'static str {
        match self {
            WebhookFormat::Binary => "binary",
            WebhookFormat::Structured => "structured",
            WebhookFormat::Json => "json",
        }
    }
}

impl fmt::Display for WebhookFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is none of `binary`, `structured`, `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown webhook format `{0}`; expected one of `binary`, `structured`, `json`")]
pub struct UnknownFormat(pub String);

impl FromStr for WebhookFormat {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "binary" => Ok(WebhookFormat::Binary),
            "structured" => Ok(WebhookFormat::Structured),
            "json" => Ok(WebhookFormat::Json),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

/// One event on its way to a webhook: its metadata and its data in the event's JSON form.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// The event's metadata, as the producer sent it.
    pub metadata: EventsMetadata,
    /// The event's data as JSON (`AnySignal::data_to_json`).
    pub data: Value,
}

impl WebhookEvent {
    /// The event with this metadata and data.
    pub fn new(metadata: EventsMetadata, data: Value) -> Self {
        WebhookEvent { metadata, data }
    }

    /// The event id, which is also the Standard Webhooks `webhook-id`: the same on every
    /// delivery of this event, so a receiver can drop duplicates by it.
    pub fn id(&self) -> String {
        self.metadata.id.to_string()
    }

    /// The CloudEvents `time`: RFC 3339, in UTC, with microseconds (as upstream's metadata keeps
    /// them).
    fn time(&self) -> String {
        self.metadata.time.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// The `sourcelib` extension: the library version as dotted numbers (`11.2.0`).
    fn sourcelib(&self) -> String {
        self.metadata.sourcelib.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
    }

    /// The context attributes, in the order binary mode sends them: name (without `ce-`) and
    /// the value as a string.
    fn attributes(&self) -> [(&'static str, String); 8] {
        [
            ("id", self.id()),
            ("source", self.metadata.source.to_string()),
            ("type", self.metadata.event_type.to_string()),
            ("specversion", SPEC_VERSION.to_owned()),
            ("time", self.time()),
            ("minorversion", self.metadata.minorversion.to_string()),
            ("sourcehost", self.metadata.sourcehost.to_string()),
            ("sourcelib", self.sourcelib()),
        ]
    }

    /// The request for this event in `format`: headers, `Content-Type` and body.
    pub fn encode(&self, format: WebhookFormat) -> EncodedEvent {
        match format {
            WebhookFormat::Binary => {
                let headers = self
                    .attributes()
                    .into_iter()
                    .map(|(name, value)| (format!("ce-{name}"), encode_header_value(&value).into_owned()))
                    .collect();
                EncodedEvent { content_type: JSON_CONTENT_TYPE, headers, body: to_bytes(&self.data) }
            }
            WebhookFormat::Structured => {
                let mut object = Map::new();
                for (name, value) in self.attributes() {
                    // In the JSON format an extension keeps its own type: `minorversion` is an
                    // integer there, a string only in a header.
                    let value = match name {
                        "minorversion" => json!(self.metadata.minorversion),
                        _ => Value::String(value),
                    };
                    object.insert(name.to_owned(), value);
                }
                object.insert("datacontenttype".to_owned(), Value::String(JSON_CONTENT_TYPE.to_owned()));
                object.insert("data".to_owned(), self.data.clone());
                EncodedEvent {
                    content_type: STRUCTURED_CONTENT_TYPE,
                    headers: Vec::new(),
                    body: to_bytes(&Value::Object(object)),
                }
            }
            WebhookFormat::Json => {
                let mut body = Vec::with_capacity(512);
                // `to_json` is upstream's JSON form already; written as it is.
                body.extend_from_slice(b"{\"metadata\":");
                body.extend_from_slice(self.metadata.to_json().as_bytes());
                body.extend_from_slice(b",\"data\":");
                body.extend_from_slice(&to_bytes(&self.data));
                body.push(b'}');
                EncodedEvent { content_type: JSON_CONTENT_TYPE, headers: Vec::new(), body }
            }
        }
    }
}

fn to_bytes(value: &Value) -> Vec<u8> {
    // A `Value` always serializes.
    serde_json::to_vec(value).unwrap_or_default()
}

/// An event as an HTTP request: what goes into `Content-Type`, the other headers, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The `ce-` headers (binary mode), names in lower case; empty otherwise.
    pub headers: Vec<(String, String)>,
    /// The body, the exact bytes that are signed.
    pub body: Vec<u8>,
}

/// A CloudEvents attribute value as an HTTP header value (binding §3.1.3.2): a space, a double
/// quote, a percent sign and every character outside printable ASCII (U+0021 to U+007E) are
/// percent-encoded as the bytes of their UTF-8 encoding; everything else is kept.
pub fn encode_header_value(value: &str) -> Cow<'_, str> {
    let keep = |byte: u8| (0x21..=0x7e).contains(&byte) && byte != b'"' && byte != b'%';
    if value.bytes().all(keep) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for byte in value.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
    Cow::Owned(out)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Reverses [`encode_header_value`] (for receivers and tests): `%XX` sequences become their
/// bytes; the result must be UTF-8. `None` for a malformed sequence or bytes that are not UTF-8.
pub fn decode_header_value(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> WebhookEvent {
        let mut metadata = EventsMetadata::new("org.openedx.learning.course.enrollment.created.v1");
        metadata.source = "openedx/lms/web".into();
        metadata.sourcehost = "lms 1".into();
        metadata.minorversion = 2;
        metadata.sourcelib = vec![11, 2, 0].into();
        WebhookEvent::new(metadata, json!({"user": "ana"}))
    }

    #[test]
    fn header_values_are_percent_encoded_as_the_binding_says() {
        // The binding's own example: "Euro € 😀" becomes "Euro%20%E2%82%AC%20%F0%9F%98%80".
        assert_eq!(encode_header_value("Euro € 😀"), "Euro%20%E2%82%AC%20%F0%9F%98%80");
        assert_eq!(encode_header_value("a\"b%c"), "a%22b%25c");
        assert_eq!(encode_header_value("openedx/lms/web"), "openedx/lms/web");
        assert!(matches!(encode_header_value("plain"), Cow::Borrowed(_)));
        for text in ["Euro € 😀", "a\"b%c", "tab\there", ""] {
            assert_eq!(decode_header_value(&encode_header_value(text)).as_deref(), Some(text));
        }
        assert_eq!(decode_header_value("%4"), None);
        assert_eq!(decode_header_value("%FF"), None);
    }

    #[test]
    fn binary_mode_sends_attributes_as_headers_and_the_data_as_the_body() {
        let encoded = event().encode(WebhookFormat::Binary);
        assert_eq!(encoded.content_type, "application/json");
        let header = |name: &str| encoded.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(header("ce-type"), Some("org.openedx.learning.course.enrollment.created.v1"));
        assert_eq!(header("ce-specversion"), Some("1.0"));
        assert_eq!(header("ce-sourcehost"), Some("lms%201"));
        assert_eq!(header("ce-minorversion"), Some("2"));
        assert_eq!(header("ce-sourcelib"), Some("11.2.0"));
        assert_eq!(header("ce-datacontenttype"), None);
        assert!(header("ce-time").is_some_and(|time| time.ends_with('Z')));
        assert_eq!(encoded.body, br#"{"user":"ana"}"#);
    }

    #[test]
    fn structured_mode_sends_one_cloudevents_json_object() {
        let encoded = event().encode(WebhookFormat::Structured);
        assert_eq!(encoded.content_type, "application/cloudevents+json");
        assert!(encoded.headers.is_empty());
        let body: Value = serde_json::from_slice(&encoded.body).unwrap();
        assert_eq!(body["specversion"], "1.0");
        assert_eq!(body["minorversion"], 2);
        assert_eq!(body["sourcehost"], "lms 1");
        assert_eq!(body["datacontenttype"], "application/json");
        assert_eq!(body["data"], json!({"user": "ana"}));
    }

    #[test]
    fn the_json_shape_is_metadata_and_data() {
        let encoded = event().encode(WebhookFormat::Json);
        let body: Value = serde_json::from_slice(&encoded.body).unwrap();
        assert_eq!(body["metadata"]["event_type"], "org.openedx.learning.course.enrollment.created.v1");
        assert_eq!(body["metadata"]["sourcelib"], json!([11, 2, 0]));
        assert_eq!(body["data"], json!({"user": "ana"}));
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!("structured".parse(), Ok(WebhookFormat::Structured));
        assert_eq!(
            "xml".parse::<WebhookFormat>().unwrap_err().to_string(),
            "unknown webhook format `xml`; expected one of `binary`, `structured`, `json`"
        );
    }
}
