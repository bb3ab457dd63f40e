//! Standard Webhooks signatures (<https://www.standardwebhooks.com>, the specification at
//! <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
//! the sender's [`Signer`] and the receiver's [`Verifier`].
//!
//! A signed request carries three headers:
//!
//! - `webhook-id`: the message id; ours is the event id, the same on every retry, so a receiver
//!   can drop duplicates by it;
//! - `webhook-timestamp`: when this attempt was made, in seconds since the Unix epoch (it
//!   changes on each retry, so the signature does too);
//! - `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` with
//!   the secret; several, separated by spaces, while secrets rotate.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header that carries the message id.
pub const ID_HEADER: &str = "webhook-id";
/// The header that carries the attempt's time.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header that carries the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// How far a timestamp may be from the receiver's clock, by default: five minutes, as the
/// specification's reference libraries allow.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The prefix of a serialized secret.
pub const SECRET_PREFIX: &str = "whsec_";

type HmacSha256 = Hmac<Sha256>;

/// A symmetric signing secret: the key bytes. Its `Debug` never shows them.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Parses a secret as the specification serializes it, `whsec_` and base64 (the prefix
    /// may be left out, as the reference libraries allow).
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.trim();
        let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::NotBase64)?;
        Self::from_bytes(key)
    }

    /// A secret of these key bytes; the specification asks for 24 to 64 bytes.
    pub fn from_bytes(key: Vec<u8>) -> Result<Self, SecretError> {
        if key.len() < 24 || key.len() > 64 {
            return Err(SecretError::Length(key.len()));
        }
        Ok(WebhookSecret(key))
    }

    /// A new random secret (of 32 bytes).
    pub fn generate() -> Self {
        WebhookSecret((0..32).map(|_| fastrand::u8(..)).collect())
    }

    /// The serialized form, `whsec_` and base64: what to give the receiving side.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body).finalize().into_bytes()))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// Why a secret was refused. Never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// It is not `whsec_` and base64.
    #[error("a webhook secret must be `whsec_` followed by base64")]
    NotBase64,
    /// Its key is too short or too long.
    #[error("a webhook secret's key must be 24 to 64 bytes; this one has {0}")]
    Length(usize),
}

/// Signs requests with one or more secrets (several while they rotate: the receiver accepts
/// the request if any signature matches).
#[derive(Debug, Clone)]
pub struct Signer {
    secrets: Vec<WebhookSecret>,
}

impl Signer {
    /// A signer with these secrets, the newest first; `None` when there are none.
    pub fn new(secrets: Vec<WebhookSecret>) -> Option<Self> {
        if secrets.is_empty() { None } else { Some(Signer { secrets }) }
    }

    /// The three headers for this attempt, signed at `timestamp` (seconds since the epoch).
    pub fn headers(&self, id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
        let signatures: Vec<String> = self.secrets.iter().map(|secret| secret.sign(id, timestamp, body)).collect();
        [
            (ID_HEADER, id.to_owned()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, signatures.join(" ")),
        ]
    }
}

/// Checks signed requests, as a receiving service does: the timestamp within the tolerance,
/// and one of the signatures made with one of the secrets, compared in constant time.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header is missing.
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a number of seconds.
    #[error("the `webhook-timestamp` header is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is too old or too far in the future (a replay, or a clock far off).
    #[error("the `webhook-timestamp` is {offset_seconds} s from now, more than the {tolerance_seconds} s allowed")]
    OutsideTolerance {
        /// The timestamp less now, in seconds.
        offset_seconds: i64,
        /// The tolerance, in seconds.
        tolerance_seconds: u64,
    },
    /// No signature matched any secret.
    #[error("no `v1` signature in `webhook-signature` matches")]
    NoMatch,
}

impl Verifier {
    /// A verifier accepting signatures of any of these secrets, with the default tolerance.
    pub fn new(secrets: Vec<WebhookSecret>) -> Self {
        Verifier { secrets, tolerance: DEFAULT_TOLERANCE }
    }

    /// The verifier with another timestamp tolerance.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a request from its three header values (`None` when absent) and its body, at
    /// the current time.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signatures: Option<&str>,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        self.verify_at(id, timestamp, signatures, body, i64::try_from(now).unwrap_or(i64::MAX))
    }

    /// [`verify`](Self::verify) as if now were `now` (seconds since the epoch).
    pub fn verify_at(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signatures: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let id = id.ok_or(VerifyError::MissingHeader(ID_HEADER))?;
        let timestamp = timestamp.ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
        let signatures = signatures.ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
        let timestamp: i64 = timestamp.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
        let offset = timestamp.saturating_sub(now);
        let tolerance = self.tolerance.as_secs();
        if offset.unsigned_abs() > tolerance {
            return Err(VerifyError::OutsideTolerance { offset_seconds: offset, tolerance_seconds: tolerance });
        }
        for signature in signatures.split(' ') {
            let Some(("v1", encoded)) = signature.split_once(',') else { continue };
            let Ok(expected) = STANDARD.decode(encoded) else { continue };
            for secret in &self.secrets {
                // `verify_slice` compares in constant time.
                if secret.mac(id, timestamp, body).verify_slice(&expected).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's reference libraries' signing vector (for one, `TestWebhookSign` in
    // libraries/go/webhook_test.go of github.com/standard-webhooks/standard-webhooks at
    // b2fa7b8719fb75d326b591077f5d1b385cfcdfae).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_specification_vector_signs_and_verifies() {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        assert_eq!(secret.sign(ID, TIMESTAMP, BODY), SIGNATURE);
        let verifier = Verifier::new(vec![secret]);
        let at = |signatures: &str, now: i64| {
            verifier.verify_at(Some(ID), Some(&TIMESTAMP.to_string()), Some(signatures), BODY, now)
        };
        assert_eq!(at(SIGNATURE, TIMESTAMP + 10), Ok(()));
        assert_eq!(at(&format!("v1,bm9wZQ== {SIGNATURE}"), TIMESTAMP), Ok(()), "any of several");
        assert_eq!(at("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd", TIMESTAMP), Err(VerifyError::NoMatch));
        assert_eq!(at(&SIGNATURE.replace("v1,", "v2,"), TIMESTAMP), Err(VerifyError::NoMatch));
        assert!(matches!(at(SIGNATURE, TIMESTAMP + 301), Err(VerifyError::OutsideTolerance { .. })));
        assert!(matches!(at(SIGNATURE, TIMESTAMP - 301), Err(VerifyError::OutsideTolerance { .. })));
    }

    #[test]
    fn rotation_signs_with_every_secret() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::parse(SECRET).unwrap());
        let signer = Signer::new(vec![new.clone(), old.clone()]).unwrap();
        let [(_, id), (_, timestamp), (_, signatures)] = signer.headers("evt", 1000, b"{}");
        assert_eq!(signatures.split(' ').count(), 2);
        for secret in [new, old] {
            let verifier = Verifier::new(vec![secret]);
            assert_eq!(verifier.verify_at(Some(&id), Some(&timestamp), Some(&signatures), b"{}", 1000), Ok(()));
        }
        let stranger = Verifier::new(vec![WebhookSecret::generate()]);
        assert_eq!(
            stranger.verify_at(Some(&id), Some(&timestamp), Some(&signatures), b"{}", 1000),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn secrets_never_show_and_must_be_base64_of_a_fair_length() {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        assert_eq!(format!("{secret:?}"), "WebhookSecret(***)");
        assert_eq!(WebhookSecret::parse(&secret.to_whsec()).unwrap().0, secret.0);
        assert_eq!(WebhookSecret::parse("whsec_!!!").unwrap_err(), SecretError::NotBase64);
        assert_eq!(WebhookSecret::parse("whsec_c2hvcnQ=").unwrap_err(), SecretError::Length(5));
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok(), "the prefix is optional");
    }

    #[test]
    fn missing_headers_are_named() {
        let verifier = Verifier::new(vec![WebhookSecret::generate()]);
        assert_eq!(verifier.verify(None, Some("1"), Some("v1,x"), b""), Err(VerifyError::MissingHeader("webhook-id")));
        assert_eq!(verifier.verify(Some("a"), Some("soon"), Some("v1,x"), b""), Err(VerifyError::BadTimestamp));
    }
}
