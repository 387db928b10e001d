//! rust-peer: a rust-libp2p 0.57 interop peer for ts-libp2p's tests.
//!
//! It speaks the line-oriented JSON control contract of interop/README.md (the same one as
//! interop/go-peer and interop/js-peer): a `ready` line on stdout once listening, then one
//! command per stdin line and exactly one reply line per command, events in between.
//!
//!   main.rs      flags, start-up, shutdown
//!   output.rs    the stdout writer (events and replies)
//!   node.rs      transports, behaviours, the swarm task and its event handling
//!   commands.rs  the stdin loop, the command table, dial / identify / connections / hangup
//!   inbound.rs   hands every negotiated inbound stream to streams.rs
//!   streams.rs   /echo/1.0.0, /test/reset/1.0.0, /perf/1.0.0 and the ping command
//!   dht.rs       Kademlia commands;  pubsub.rs  gossipsub commands
//!   rendezvous.rs rendezvous client commands (the server is a flag)
//!   autonat.rs   AutoNAT v1 and v2 probe events (client and server)

#[macro_use]
mod output;
mod autonat;
mod commands;
mod dht;
mod inbound;
mod node;
mod pubsub;
mod rendezvous;
mod streams;

use libp2p::Multiaddr;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Security {
    Noise,
    Tls,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Muxer {
    Yamux,
    Mplex,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DhtMode {
    Server,
    Client,
}

/// The parsed command line (see interop/README.md for the meaning of each flag).
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: Vec<Multiaddr>,
    pub muxer: Muxer,
    pub security: Security,
    pub key_seed: Option<[u8; 32]>,
    pub agent: Option<String>,
    pub perf: bool,
    pub gossipsub: bool,
    pub dht: Option<DhtMode>,
    pub relay_server: bool,
    pub relays: Vec<Multiaddr>,
    pub rendezvous_server: bool,
    pub autonat: bool,
    /// AutoNAT v2 client and server (rust-libp2p's defaults: a probe every 5 s)
    pub autonat_v2: bool,
    /// AutoNAT v1 client: the first probe after this delay, then again at this interval until
    /// sure (the crate's 15 s / 90 s are too slow for tests)
    pub autonat_interval: Option<std::time::Duration>,
}

/// Accepts `--flag value` and `--flag=value` (and one dash), like Go's flag package, so the
/// harness can give every peer kind the same arguments.
fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config {
        listen: Vec::new(),
        muxer: Muxer::Yamux,
        security: Security::Noise,
        key_seed: None,
        agent: None,
        perf: false,
        gossipsub: false,
        dht: None,
        relay_server: false,
        relays: Vec::new(),
        rendezvous_server: false,
        autonat: false,
        autonat_v2: false,
        autonat_interval: None,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let value = |i: &mut usize| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = args.get(*i).cloned().ok_or_else(|| format!("--{name} needs a value"))?;
            *i += 1;
            Ok(v)
        };
        let addr = |s: String| s.parse::<Multiaddr>().map_err(|e| format!("--{name} {s:?}: {e}"));
        match name {
            "listen" => cfg.listen.push(addr(value(&mut i)?)?),
            "muxer" => {
                cfg.muxer = match value(&mut i)?.as_str() {
                    "yamux" => Muxer::Yamux,
                    "mplex" => Muxer::Mplex,
                    other => return Err(format!("unknown --muxer {other:?} (yamux or mplex)")),
                }
            }
            "security" => {
                cfg.security = match value(&mut i)?.as_str() {
                    "noise" => Security::Noise,
                    "tls" => Security::Tls,
                    other => return Err(format!("unknown --security {other:?} (noise or tls)")),
                }
            }
            "key-seed" => {
                let v = value(&mut i)?;
                let bytes = hex::decode(v.trim_start_matches("0x")).map_err(|e| format!("--key-seed: {e}"))?;
                let seed: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| format!("--key-seed must be 32 bytes, got {}", b.len()))?;
                cfg.key_seed = Some(seed);
            }
            "agent" => cfg.agent = Some(value(&mut i)?),
            "perf" => cfg.perf = true,
            "pubsub" => match value(&mut i)?.as_str() {
                "gossipsub" => cfg.gossipsub = true,
                other => return Err(format!("--pubsub {other:?} is not supported (gossipsub only)")),
            },
            "dht" => {
                cfg.dht = Some(match value(&mut i)?.as_str() {
                    "server" => DhtMode::Server,
                    "client" => DhtMode::Client,
                    other => return Err(format!("--dht must be server or client, got {other:?}")),
                })
            }
            "relay-server" => cfg.relay_server = true,
            "relay" => cfg.relays.push(addr(value(&mut i)?)?),
            "rendezvous-server" => cfg.rendezvous_server = true,
            "autonat" => cfg.autonat = true,
            "autonat-v2" => cfg.autonat_v2 = true,
            "autonat-interval-ms" => {
                let v = value(&mut i)?;
                let ms: u64 = v.parse().map_err(|e| format!("--autonat-interval-ms {v:?}: {e}"))?;
                cfg.autonat_interval = Some(std::time::Duration::from_millis(ms.max(1)));
            }
            // DCUtR is always on (the go peer needs the flag; the harness may pass it to all)
            "holepunch" => {}
            _ => return Err(format!("unknown flag --{name}")),
        }
    }
    if cfg.listen.is_empty() {
        cfg.listen.push("/ip4/127.0.0.1/tcp/0".parse().expect("valid default address"));
    }
    Ok(cfg)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(cfg) => cfg,
        Err(e) => {
            log!("error: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(node::run(cfg));
    // Whatever is still running (a command past the stop) is abandoned, as the contract allows.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    std::process::exit(code);
}
