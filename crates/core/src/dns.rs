//! TXT lookups for domain verification. The name servers come from the config
//! (`dns_servers`), else from the system (`/etc/resolv.conf`): an air-gapped site often has
//! an internal resolver, or none, in which case a domain is verified by hand.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::error::{Error, Result};

/// The TXT strings published at `name` (each record's strings joined, as DNS tools show
/// them). An empty list when the name has none.
pub async fn txt(name: &str, servers: &[SocketAddr]) -> Result<Vec<String>> {
    let fail = |e: &dyn std::fmt::Display| Error::Dns(format!("{name}: {e}"));
    let mut builder = if servers.is_empty() {
        Resolver::builder_tokio().map_err(|e| fail(&e))?
    } else {
        let name_servers = servers
            .iter()
            .map(|s| {
                let mut udp = ConnectionConfig::udp();
                udp.port = s.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = s.port();
                NameServerConfig::new(s.ip(), true, vec![udp, tcp])
            })
            .collect();
        Resolver::builder_with_config(
            ResolverConfig::from_name_servers(name_servers),
            TokioRuntimeProvider::default(),
        )
    };
    builder.options_mut().timeout = Duration::from_secs(5);
    builder.options_mut().attempts = 2;
    let resolver = builder.build().map_err(|e| fail(&e))?;
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    match resolver.txt_lookup(fqdn.as_str()).await {
        Ok(lookup) => Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
        Err(e) => Err(fail(&e)),
    }
}
