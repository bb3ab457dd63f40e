//! Where a webhook may be sent: an `http://` or `https://` URL whose host resolves only to
//! public addresses, unless private targets are allowed (for local development).
//!
//! A webhook URL is configuration that may come from someone other than the operator (a
//! partner's form, a tenant's settings), and a bridge that POSTs wherever it is told can be
//! made to reach the services behind its own firewall: server-side request forgery. So every
//! address a name resolves to is checked when the connection is made (in the HTTP client's
//! resolver, which also covers a name whose DNS answer changes after a first check), and the
//! request is refused if any is loopback, link-local, private, unique-local, unspecified,
//! broadcast or multicast.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// A webhook URL that was checked to be `http://` or `https://` with a host. Its `Display` is
/// the redacted form (no user info, no query), which is what logs and errors show: webhook URLs
/// often carry a token.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: String,
    redacted: String,
    host: String,
    port: u16,
}

/// Why a webhook URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// It does not parse as a URL.
    #[error("not a URL: {0}")]
    Invalid(String),
    /// It is not `http://` or `https://`, or has no host.
    #[error("expected an `http://` or `https://` URL with a host")]
    NotHttp,
    /// Its host resolves to an address that is not public, and private targets are not allowed.
    #[error(
        "`{host}` resolves to {address}, a {kind} address; webhooks go only to public addresses unless private targets are allowed (`--allow-private-targets`)"
    )]
    Private {
        /// The host in the URL.
        host: String,
        /// The address it resolved to.
        address: IpAddr,
        /// What kind of address it is (`loopback`, `private`, …).
        kind: &'static str,
    },
    /// Its host does not resolve.
    #[error("cannot resolve `{host}`: {reason}")]
    Unresolvable {
        /// The host in the URL.
        host: String,
        /// What the resolver said.
        reason: String,
    },
}

impl WebhookUrl {
    /// Checks the URL's form (not yet where it resolves: see [`check_target`]).
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let uri: Uri =
            url.parse().map_err(|error: ureq::http::uri::InvalidUri| TargetError::Invalid(error.to_string()))?;
        let default_port = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            _ => return Err(TargetError::NotHttp),
        };
        let authority = uri.authority().ok_or(TargetError::NotHttp)?;
        let host = authority.host();
        if host.is_empty() {
            return Err(TargetError::NotHttp);
        }
        let port = authority.port_u16().unwrap_or(default_port);
        let user_info = if authority.as_str().contains('@') { "***@" } else { "" };
        let query = if uri.query().is_some() { "?***" } else { "" };
        let port_text = authority.port().map(|port| format!(":{port}")).unwrap_or_default();
        let redacted =
            format!("{}://{user_info}{host}{port_text}{}{query}", uri.scheme_str().unwrap_or_default(), uri.path());
        Ok(WebhookUrl { url: url.to_owned(), redacted, host: host.trim_matches(['[', ']']).to_owned(), port })
    }

    /// The whole URL, token and all: for the HTTP client only.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The host, without brackets around an IPv6 address.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.redacted)
    }
}

/// What kind of non-public address this is, or `None` for a public one.
pub fn non_public_kind(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let first = v6.segments()[0];
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first & 0xffc0 == 0xfec0 {
                Some("site-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64 (RFC 6052): the IPv4 address it reaches decides.
                let [.., a, b, c, d] = v6.octets();
                v4_kind(Ipv4Addr::new(a, b, c, d))
            } else {
                None
            }
        }
    }
}

fn v4_kind(v4: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = v4.octets();
    if v4.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if v4.is_loopback() {
        Some("loopback")
    } else if v4.is_private() {
        Some("private")
    } else if v4.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if v4.is_broadcast() {
        Some("broadcast")
    } else if v4.is_multicast() {
        Some("multicast")
    } else {
        None
    }
}

/// Resolves the URL's host and checks every address, as the client will when it connects:
/// for a clear error at start-up rather than at the first event.
pub fn check_target(url: &WebhookUrl, allow_private_targets: bool) -> Result<Vec<SocketAddr>, TargetError> {
    let addresses: Vec<SocketAddr> = (url.host(), url.port)
        .to_socket_addrs()
        .map_err(|error| TargetError::Unresolvable { host: url.host().to_owned(), reason: error.to_string() })?
        .collect();
    if !allow_private_targets {
        refuse_private(url.host(), &addresses)?;
    }
    Ok(addresses)
}

fn refuse_private(host: &str, addresses: &[SocketAddr]) -> Result<(), TargetError> {
    for address in addresses {
        if let Some(kind) = non_public_kind(address.ip()) {
            return Err(TargetError::Private { host: host.to_owned(), address: address.ip(), kind });
        }
    }
    Ok(())
}

/// The HTTP client's resolver: the default one, then the check of every address (unless
/// private targets are allowed). A refusal reaches the caller as an I/O error of kind
/// `PermissionDenied` wrapping the [`TargetError`].
#[derive(Debug, Default)]
pub(crate) struct GuardedResolver {
    pub(crate) allow_private_targets: bool,
    inner: DefaultResolver,
}

impl GuardedResolver {
    pub(crate) fn new(allow_private_targets: bool) -> Self {
        GuardedResolver { allow_private_targets, inner: DefaultResolver::default() }
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private_targets {
            let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
            refuse_private(host, &addresses)
                .map_err(|refused| ureq::Error::Io(io::Error::new(io::ErrorKind::PermissionDenied, refused)))?;
        }
        Ok(addresses)
    }
}

/// The refusal inside a client error, if that is what it is.
pub(crate) fn refusal(error: &ureq::Error) -> Option<&TargetError> {
    match error {
        ureq::Error::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<TargetError>()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_named() {
        let kind = |text: &str| non_public_kind(text.parse().unwrap());
        assert_eq!(kind("127.0.0.1"), Some("loopback"));
        assert_eq!(kind("10.1.2.3"), Some("private"));
        assert_eq!(kind("172.16.0.1"), Some("private"));
        assert_eq!(kind("192.168.1.1"), Some("private"));
        assert_eq!(kind("169.254.169.254"), Some("link-local"), "the cloud metadata service");
        assert_eq!(kind("0.0.0.0"), Some("unspecified"));
        assert_eq!(kind("100.64.0.1"), Some("shared (carrier-grade NAT)"));
        assert_eq!(kind("::1"), Some("loopback"));
        assert_eq!(kind("::"), Some("unspecified"));
        assert_eq!(kind("fd00::1"), Some("unique-local"));
        assert_eq!(kind("fe80::1"), Some("link-local"));
        assert_eq!(kind("::ffff:127.0.0.1"), Some("loopback"), "IPv4-mapped");
        assert_eq!(kind("64:ff9b::a00:1"), Some("private"), "NAT64 of 10.0.0.1");
        assert_eq!(kind("93.184.215.14"), None);
        assert_eq!(kind("2606:2800:21f:cb07:6820:80da:af6b:8b2c"), None);
    }

    #[test]
    fn urls_are_checked_and_shown_without_secrets() {
        let url = WebhookUrl::parse("https://user:pw@hooks.example.org:8443/in/abc?token=s3cret").unwrap();
        assert_eq!(url.to_string(), "https://***@hooks.example.org:8443/in/abc?***");
        assert_eq!(format!("{url:?}"), "WebhookUrl(https://***@hooks.example.org:8443/in/abc?***)");
        assert_eq!(url.host(), "hooks.example.org");
        assert_eq!(WebhookUrl::parse("ftp://example.org/x"), Err(TargetError::NotHttp));
        assert_eq!(WebhookUrl::parse("/just/a/path"), Err(TargetError::NotHttp));
        assert!(matches!(WebhookUrl::parse("http://exa mple.org"), Err(TargetError::Invalid(_))));
        assert_eq!(WebhookUrl::parse("http://[::1]:9/").unwrap().host(), "::1");
    }

    #[test]
    fn the_client_checks_every_address_when_it_connects() {
        // As if the name resolved to a public address at start-up and to loopback later.
        let agent = |allow| {
            let config = ureq::Agent::config_builder().proxy(None).build();
            ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::new(),
                GuardedResolver::new(allow),
            )
        };
        let error = agent(false).post("http://localhost:9/hook").send(&b"{}"[..]).unwrap_err();
        let refused = refusal(&error).cloned();
        assert!(matches!(refused, Some(TargetError::Private { kind: "loopback", .. })), "{error}");
        let error = agent(true).post("http://127.0.0.1:9/hook").send(&b"{}"[..]).unwrap_err();
        assert_eq!(refusal(&error), None, "allowed: the connection itself fails ({error})");
    }

    #[test]
    fn loopback_targets_are_refused_unless_allowed() {
        let url = WebhookUrl::parse("http://localhost:9/hook").unwrap();
        let refused = check_target(&url, false).unwrap_err();
        assert!(matches!(refused, TargetError::Private { kind: "loopback", .. }), "{refused}");
        assert!(refused.to_string().contains("--allow-private-targets"));
        assert!(check_target(&url, true).is_ok());
    }
}
