//! `rendezvous.*` commands on rust-libp2p's rendezvous client (/rendezvous/1.0.0); the server
//! side is the `--rendezvous-server` flag.
//!
//! rendezvous.register {peer, namespace, ttl?}  -> {"ttl":N}
//! rendezvous.discover {peer, namespace?, limit?} -> {"registrations":[{"peerId","namespace","addrs","ttl"}]}
//! rendezvous.unregister {peer, namespace} -> {}

use crate::commands::{obj, peer_arg, str_arg, CmdResult};
use crate::node::{Ctx, State};
use libp2p::rendezvous::{client, Namespace};
use libp2p::PeerId;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<CmdResult>;

/// Requests waiting for the rendezvous point's answer, by (point, namespace).
#[derive(Default)]
pub struct Pending {
    register: HashMap<(PeerId, String), Vec<Reply>>,
    discover: HashMap<(PeerId, String), Vec<Reply>>,
}

pub async fn command(ctx: Ctx, cmd: &str, args: Value) -> CmdResult {
    let point = peer_arg(&args)?;
    let namespace = args.get("namespace").and_then(Value::as_str).unwrap_or("").to_string();
    let cmd = cmd.to_string();
    let ttl = args.get("ttl").and_then(Value::as_u64);
    let limit = args.get("limit").and_then(Value::as_u64);
    if cmd != "rendezvous.discover" {
        str_arg(&args, "namespace")?;
    }
    let rx = ctx
        .with_swarm(move |swarm, state, tx| {
            let (reply_tx, reply_rx) = oneshot::channel();
            let _ = tx.send(reply_rx);
            let ns = match (namespace.is_empty(), Namespace::new(namespace.clone())) {
                (true, _) => None,
                (false, Ok(ns)) => Some(ns),
                (false, Err(e)) => {
                    let _ = reply_tx.send(Err(format!("bad namespace: {e}")));
                    return;
                }
            };
            let rz = &mut swarm.behaviour_mut().rendezvous_client;
            match cmd.as_str() {
                "rendezvous.register" => match rz.register(ns.expect("checked above"), point, ttl) {
                    Ok(()) => state.rendezvous.register.entry((point, namespace)).or_default().push(reply_tx),
                    Err(e) => {
                        let _ = reply_tx.send(Err(e.to_string()));
                    }
                },
                "rendezvous.unregister" => {
                    rz.unregister(ns.expect("checked above"), point);
                    let _ = reply_tx.send(Ok(Map::new()));
                }
                "rendezvous.discover" => {
                    rz.discover(ns, None, limit, point);
                    state.rendezvous.discover.entry((point, namespace)).or_default().push(reply_tx);
                }
                other => {
                    let _ = reply_tx.send(Err(format!("unknown command {other:?}")));
                }
            }
        })
        .await?;
    rx.await.map_err(|_| "the request was dropped".to_string())?
}

pub fn on_client_event(state: &mut State, event: client::Event) {
    let answer = |map: &mut HashMap<(PeerId, String), Vec<Reply>>, key: (PeerId, String), result: CmdResult| {
        for tx in map.remove(&key).unwrap_or_default() {
            let _ = tx.send(result.clone());
        }
    };
    match event {
        client::Event::Registered { rendezvous_node, ttl, namespace } => {
            answer(&mut state.rendezvous.register, (rendezvous_node, namespace.to_string()), Ok(obj(json!({ "ttl": ttl }))))
        }
        client::Event::RegisterFailed { rendezvous_node, namespace, error } => answer(
            &mut state.rendezvous.register,
            (rendezvous_node, namespace.to_string()),
            Err(format!("registration refused: {error:?}")),
        ),
        client::Event::Discovered { rendezvous_node, registrations, .. } => {
            let list: Vec<Value> = registrations
                .iter()
                .map(|r| {
                    json!({
                        "peerId": r.record.peer_id().to_string(),
                        "namespace": r.namespace.to_string(),
                        "addrs": r.record.addresses().iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                        "ttl": r.ttl,
                    })
                })
                .collect();
            // one discover per (point, namespace) is answered by the first response
            let keys: Vec<(PeerId, String)> = state.rendezvous.discover.keys().filter(|(p, _)| *p == rendezvous_node).cloned().collect();
            for key in keys {
                let mine: Vec<Value> = list.iter().filter(|r| key.1.is_empty() || r["namespace"] == key.1.as_str()).cloned().collect();
                answer(&mut state.rendezvous.discover, key, Ok(obj(json!({ "registrations": mine }))));
            }
        }
        client::Event::DiscoverFailed { rendezvous_node, namespace, error } => answer(
            &mut state.rendezvous.discover,
            (rendezvous_node, namespace.map(|n| n.to_string()).unwrap_or_default()),
            Err(format!("discover refused: {error:?}")),
        ),
        client::Event::Expired { .. } => {}
    }
}
