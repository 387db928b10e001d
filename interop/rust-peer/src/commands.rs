//! The stdin side of the contract: one JSON command per line, each run concurrently under its
//! time limit, each answered by exactly one reply line. Also the basic commands (dial,
//! identify, connections, hangup, stop); the others live beside their protocols.

use crate::node::Ctx;
use crate::output::reply;
use crate::{dht, pubsub, rendezvous, streams};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId};
use serde_json::{json, Map, Value};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

pub type CmdResult = Result<Map<String, Value>, String>;

/// A reply body from a `json!({...})` object.
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The default time limit of each command (interop/README.md), or None if unknown.
fn default_timeout(cmd: &str) -> Option<Duration> {
    let secs = match cmd {
        "dial" | "ping" | "pubsub.publish" => 30,
        "identify" | "hangup" | "reset" | "pubsub.subscribe" | "pubsub.unsubscribe" => 10,
        "connections" | "stop" | "pubsub.peers" | "dht.routingTable" => 5,
        "echo" | "perf" => 120,
        "dht.findPeer" | "dht.getClosestPeers" | "dht.put" | "dht.get" | "dht.provide" | "dht.findProviders" | "dht.bootstrap" => 60,
        "rendezvous.register" | "rendezvous.discover" | "rendezvous.unregister" => 30,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

async fn execute(ctx: Ctx, cmd: &str, args: Value) -> CmdResult {
    match cmd {
        "dial" => dial(ctx, args).await,
        "identify" => identify(ctx, args).await,
        "connections" => connections(ctx).await,
        "hangup" => hangup(ctx, args).await,
        "stop" => Ok(Map::new()),
        "ping" => streams::ping(ctx, args).await,
        "echo" => streams::echo(ctx, args).await,
        "reset" => streams::reset(ctx, args).await,
        "perf" => streams::perf(ctx, args).await,
        c if c.starts_with("dht.") => dht::command(ctx, c, args).await,
        c if c.starts_with("pubsub.") => pubsub::command(ctx, c, args).await,
        c if c.starts_with("rendezvous.") => rendezvous::command(ctx, c, args).await,
        other => Err(format!("unknown command {other:?}")),
    }
}

pub async fn read_commands(ctx: Ctx) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                log!("error: reading stdin: {e}");
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let request: Value = match serde_json::from_str(&line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) | Err(_) => {
                reply(Value::Null, Err(format!("invalid command line: {line}")));
                continue;
            }
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let cmd = request.get("cmd").and_then(Value::as_str).unwrap_or("").to_string();
        let Some(default) = default_timeout(&cmd) else {
            reply(id, Err(format!("unknown command {cmd:?}")));
            continue;
        };
        let limit = match request.get("timeoutMs").and_then(Value::as_f64) {
            Some(ms) if ms > 0.0 => Duration::from_secs_f64(ms / 1000.0),
            _ => default,
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let result = match tokio::time::timeout(limit, execute(ctx.clone(), &cmd, request)).await {
                Ok(r) => r,
                Err(_) => Err(format!("{cmd} timed out after {} ms", limit.as_millis())),
            };
            if let Err(e) = &result {
                log!("command {cmd} (id {id}) failed: {e}");
            }
            reply(id, result);
            if cmd == "stop" {
                let _ = ctx.shutdown.send("stop command".into());
            }
        });
    }
    let _ = ctx.shutdown.send("stdin closed".into());
}

// ------------------------------------------------------------ arguments --

pub fn str_arg<'a>(args: &'a Value, name: &str) -> Result<&'a str, String> {
    args.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| format!("missing {name:?}"))
}

pub fn peer_arg(args: &Value) -> Result<PeerId, String> {
    let s = str_arg(args, "peer")?;
    s.parse().map_err(|e| format!("bad peer id {s:?}: {e}"))
}

pub fn b64_arg(args: &Value, name: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let s = args.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing {name:?} (base64)"))?;
    base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| format!("{name:?} is not base64: {e}"))
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A multiaddr that ends in /p2p/<id>, and that id.
pub fn p2p_addr(s: &str) -> Result<(Multiaddr, PeerId), String> {
    let addr: Multiaddr = s.parse().map_err(|e| format!("bad multiaddr {s:?}: {e}"))?;
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Ok((addr, peer)),
        _ => Err(format!("multiaddr must end with /p2p/<peer id>: {s}")),
    }
}

// --------------------------------------------------------------- basics --

/// Connects unless already connected; waits for the connection (or the dial's failure).
pub async fn connect(ctx: &Ctx, addr: Multiaddr, peer: PeerId) -> Result<(), String> {
    let waiter = ctx
        .with_swarm(move |swarm, state, tx| {
            if swarm.is_connected(&peer) {
                let _ = tx.send(None);
                return;
            }
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let opts = DialOpts::peer_id(peer).addresses(vec![addr]).build();
            let connection_id = opts.connection_id();
            match swarm.dial(opts) {
                Ok(()) => {
                    state.dials.insert(connection_id, peer);
                    state.dial_waiters.entry(peer).or_default().push(done_tx);
                }
                // already dialing this peer: wait for that dial's outcome
                Err(libp2p::swarm::DialError::DialPeerConditionFalse(_)) => {
                    state.dial_waiters.entry(peer).or_default().push(done_tx);
                }
                Err(e) => {
                    let _ = done_tx.send(Err(e.to_string()));
                }
            }
            let _ = tx.send(Some(done_rx));
        })
        .await?;
    match waiter {
        None => Ok(()),
        Some(rx) => rx.await.map_err(|_| "dial abandoned".to_string())?,
    }
}

async fn dial(ctx: Ctx, args: Value) -> CmdResult {
    let (addr, peer) = p2p_addr(str_arg(&args, "addr")?)?;
    connect(&ctx, addr, peer).await?;
    Ok(obj(json!({ "peerId": peer.to_string() })))
}

async fn identify(ctx: Ctx, args: Value) -> CmdResult {
    let peer = peer_arg(&args)?;
    let waiter = ctx
        .with_swarm(move |_swarm, state, tx| {
            if let Some(info) = state.identified.get(&peer) {
                let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                let _ = done_tx.send(info.clone());
                let _ = tx.send(done_rx);
            } else {
                let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                state.identify_waiters.entry(peer).or_default().push(done_tx);
                let _ = tx.send(done_rx);
            }
        })
        .await?;
    let info = waiter.await.map_err(|_| "identify abandoned".to_string())?;
    let mut out = obj(json!({
        "protocols": info.protocols.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        "listenAddrs": info.listen_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "agentVersion": info.agent_version,
        "protocolVersion": info.protocol_version,
    }));
    if !info.observed_addr.is_empty() {
        out.insert("observedAddr".into(), json!(info.observed_addr.to_string()));
    }
    Ok(out)
}

async fn connections(ctx: Ctx) -> CmdResult {
    let peers = ctx
        .with_swarm(|swarm, _state, tx| {
            let _ = tx.send(swarm.connected_peers().map(|p| p.to_string()).collect::<Vec<_>>());
        })
        .await?;
    Ok(obj(json!({ "peers": peers })))
}

async fn hangup(ctx: Ctx, args: Value) -> CmdResult {
    let peer = peer_arg(&args)?;
    let waiter = ctx
        .with_swarm(move |swarm, state, tx| {
            if !swarm.is_connected(&peer) {
                let _ = tx.send(None);
                return;
            }
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            state.hangup_waiters.entry(peer).or_default().push(done_tx);
            let _ = swarm.disconnect_peer_id(peer);
            let _ = tx.send(Some(done_rx));
        })
        .await?;
    if let Some(rx) = waiter {
        rx.await.map_err(|_| "hangup abandoned".to_string())?;
    }
    Ok(Map::new())
}
