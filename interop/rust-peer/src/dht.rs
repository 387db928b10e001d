//! `dht.*` commands on rust-libp2p's Kademlia (/ipfs/kad/1.0.0, memory store). Each query is
//! parked in `Queries` under its id and answered from `kad::Event::OutboundQueryProgressed`.

use crate::commands::{b64, b64_arg, obj, peer_arg, str_arg, CmdResult};
use crate::node::{Behaviour, Ctx, State};
use libp2p::kad::{self, GetClosestPeersOk, GetProvidersOk, GetRecordOk, QueryId, QueryResult, Quorum, Record, RecordKey};
use libp2p::{PeerId, Swarm};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<CmdResult>;

pub enum Query {
    FindPeer { target: PeerId, reply: Reply },
    Closest { reply: Reply },
    Put { reply: Reply },
    Get { reply: Option<Reply> },
    Provide { reply: Reply },
    Providers { reply: Option<Reply>, found: Vec<PeerId>, seen: HashSet<PeerId>, count: usize },
    Bootstrap { reply: Reply },
}

#[derive(Default)]
pub struct Queries(pub HashMap<QueryId, Query>);

/// The multihash inside a CID string (CIDv0 base58btc "Qm…", or CIDv1 in base32 "b…" or
/// base58btc "z…"): the key of provider records.
fn cid_multihash(cid: &str) -> Result<Vec<u8>, String> {
    let bad = |why: &str| format!("bad cid {cid:?}: {why}");
    if cid.len() == 46 && cid.starts_with("Qm") {
        return bs58::decode(cid).into_vec().map_err(|e| bad(&e.to_string()));
    }
    let bytes = match cid.as_bytes().first() {
        Some(b'b') => base32_lower(&cid[1..]).ok_or_else(|| bad("not base32"))?,
        Some(b'z') => bs58::decode(&cid[1..]).into_vec().map_err(|e| bad(&e.to_string()))?,
        _ => return Err(bad("unsupported multibase (b or z)")),
    };
    let (version, rest) = varint(&bytes).ok_or_else(|| bad("truncated"))?;
    if version != 1 {
        return Err(bad("not CIDv1"));
    }
    let (_codec, rest) = varint(rest).ok_or_else(|| bad("truncated"))?;
    Ok(rest.to_vec())
}

fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(9) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, &b[i + 1..]));
        }
    }
    None
}

/// RFC 4648 base32, lower case, no padding (multibase "b").
fn base32_lower(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn kad_of(swarm: &mut Swarm<Behaviour>) -> Result<&mut kad::Behaviour<kad::store::MemoryStore>, String> {
    swarm.behaviour_mut().kad.as_mut().ok_or_else(|| "the DHT is not running (start the peer with --dht server|client)".to_string())
}

/// Starts a query in the swarm task and waits for its answer.
async fn query(
    ctx: &Ctx,
    start: impl FnOnce(&mut kad::Behaviour<kad::store::MemoryStore>, Reply) -> Result<Option<(QueryId, Query)>, String> + Send + 'static,
) -> CmdResult {
    let rx = ctx
        .with_swarm(move |swarm, state, tx| {
            let (reply_tx, reply_rx) = oneshot::channel();
            match kad_of(swarm).and_then(|kad| start(kad, reply_tx)) {
                Ok(Some((id, q))) => {
                    state.kad.0.insert(id, q);
                }
                Ok(None) => {}
                Err(e) => {
                    let (err_tx, err_rx) = oneshot::channel();
                    let _ = err_tx.send(Err(e));
                    let _ = tx.send(err_rx);
                    return;
                }
            }
            let _ = tx.send(reply_rx);
        })
        .await?;
    rx.await.map_err(|_| "the query was dropped".to_string())?
}

pub async fn command(ctx: Ctx, cmd: &str, args: Value) -> CmdResult {
    match cmd {
        "dht.findPeer" => {
            let target = peer_arg(&args)?;
            query(&ctx, move |kad, reply| Ok(Some((kad.get_closest_peers(target), Query::FindPeer { target, reply })))).await
        }
        "dht.getClosestPeers" => {
            let key = b64_arg(&args, "key")?;
            query(&ctx, move |kad, reply| Ok(Some((kad.get_closest_peers(key), Query::Closest { reply })))).await
        }
        "dht.put" => {
            let key = b64_arg(&args, "key")?;
            let value = b64_arg(&args, "value")?;
            query(&ctx, move |kad, reply| {
                let id = kad.put_record(Record::new(RecordKey::new(&key), value), Quorum::One).map_err(|e| e.to_string())?;
                Ok(Some((id, Query::Put { reply })))
            })
            .await
        }
        "dht.get" => {
            let key = b64_arg(&args, "key")?;
            let (tx, rx) = oneshot::channel();
            let started = query(&ctx, move |kad, reply| {
                let _ = reply.send(Ok(Map::new()));
                Ok(Some((kad.get_record(RecordKey::new(&key)), Query::Get { reply: Some(tx) })))
            })
            .await;
            started?;
            rx.await.map_err(|_| "the query was dropped".to_string())?
        }
        "dht.provide" => {
            let key = cid_multihash(str_arg(&args, "cid")?)?;
            query(&ctx, move |kad, reply| {
                let id = kad.start_providing(RecordKey::new(&key)).map_err(|e| e.to_string())?;
                Ok(Some((id, Query::Provide { reply })))
            })
            .await
        }
        "dht.findProviders" => {
            let key = cid_multihash(str_arg(&args, "cid")?)?;
            let count = args.get("count").and_then(Value::as_u64).filter(|c| *c > 0).unwrap_or(20) as usize;
            query(&ctx, move |kad, reply| {
                let id = kad.get_providers(RecordKey::new(&key));
                Ok(Some((id, Query::Providers { reply: Some(reply), found: Vec::new(), seen: HashSet::new(), count })))
            })
            .await
        }
        "dht.bootstrap" => query(&ctx, |kad, reply| {
            let id = kad.bootstrap().map_err(|e| e.to_string())?;
            Ok(Some((id, Query::Bootstrap { reply })))
        })
        .await,
        "dht.routingTable" => query(&ctx, |kad, reply| {
            let peers: Vec<String> = kad.kbuckets().flat_map(|b| b.iter().map(|e| e.node.key.preimage().to_string()).collect::<Vec<_>>()).collect();
            let _ = reply.send(Ok(obj(json!({ "peers": peers }))));
            Ok(None)
        })
        .await,
        other => Err(format!("unknown command {other:?}")),
    }
}

fn routing_table_size(swarm: &mut Swarm<Behaviour>) -> usize {
    kad_of(swarm).map(|kad| kad.kbuckets().map(|b| b.num_entries()).sum()).unwrap_or(0)
}

fn providers_reply(swarm: &mut Swarm<Behaviour>, found: &[PeerId]) -> CmdResult {
    let list: Vec<Value> = found
        .iter()
        .map(|p| {
            let addrs: Vec<String> = kad_of(swarm)
                .ok()
                .and_then(|kad| kad.kbucket(*p).and_then(|b| b.iter().find(|e| e.node.key.preimage() == p).map(|e| e.node.value.iter().map(|a| a.to_string()).collect())))
                .unwrap_or_default();
            json!({ "peerId": p.to_string(), "addrs": addrs })
        })
        .collect();
    Ok(obj(json!({ "providers": list })))
}

pub fn on_event(swarm: &mut Swarm<Behaviour>, state: &mut State, event: kad::Event) {
    let kad::Event::OutboundQueryProgressed { id, result, step, .. } = event else {
        return;
    };
    let Some(q) = state.kad.0.remove(&id) else { return };
    let keep = match (q, result) {
        (Query::FindPeer { target, reply }, QueryResult::GetClosestPeers(r)) => {
            let peers = match r {
                Ok(GetClosestPeersOk { peers, .. }) => peers,
                Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
            };
            let answer = match peers.into_iter().find(|p| p.peer_id == target && !p.addrs.is_empty()) {
                Some(info) => Ok(obj(json!({ "peerId": target.to_string(), "addrs": info.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>() }))),
                None => Err(format!("peer {target} not found")),
            };
            let _ = reply.send(answer);
            None
        }
        (Query::Closest { reply }, QueryResult::GetClosestPeers(r)) => {
            let answer = match r {
                Ok(ok) => Ok(obj(json!({ "peers": ok.peers.iter().map(|p| p.peer_id.to_string()).collect::<Vec<_>>() }))),
                Err(e) => Err(e.to_string()),
            };
            let _ = reply.send(answer);
            None
        }
        (Query::Put { reply }, QueryResult::PutRecord(r)) => {
            let _ = reply.send(r.map(|_| Map::new()).map_err(|e| e.to_string()));
            None
        }
        (Query::Get { mut reply }, QueryResult::GetRecord(r)) => {
            match r {
                Ok(GetRecordOk::FoundRecord(found)) => {
                    if let Some(tx) = reply.take() {
                        let _ = tx.send(Ok(obj(json!({ "value": b64(&found.record.value) }))));
                    }
                    if let Some(mut query) = kad_of(swarm).ok().and_then(|kad| kad.query_mut(&id)) {
                        query.finish();
                    }
                }
                Ok(GetRecordOk::FinishedWithNoAdditionalRecord { .. }) => {
                    if let Some(tx) = reply.take() {
                        let _ = tx.send(Err("record not found".into()));
                    }
                }
                Err(e) => {
                    if let Some(tx) = reply.take() {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            }
            (!step.last).then_some(Query::Get { reply })
        }
        (Query::Provide { reply }, QueryResult::StartProviding(r)) => {
            let _ = reply.send(r.map(|_| Map::new()).map_err(|e| e.to_string()));
            None
        }
        (Query::Providers { mut reply, mut found, mut seen, count }, QueryResult::GetProviders(r)) => {
            let mut done = step.last;
            match r {
                Ok(GetProvidersOk::FoundProviders { providers, .. }) => {
                    for p in providers {
                        if seen.insert(p) {
                            found.push(p);
                        }
                    }
                    if found.len() >= count {
                        done = true;
                        if let Some(mut query) = kad_of(swarm).ok().and_then(|kad| kad.query_mut(&id)) {
                            query.finish();
                        }
                    }
                }
                Ok(GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => done = true,
                Err(e) => {
                    // a timeout still answers with what was found, as go's async search does
                    log!("findProviders: {e}");
                    done = true;
                }
            }
            if done {
                if let Some(tx) = reply.take() {
                    let _ = tx.send(providers_reply(swarm, &found));
                }
            }
            (!step.last).then_some(Query::Providers { reply, found, seen, count })
        }
        (Query::Bootstrap { reply }, QueryResult::Bootstrap(r)) => match r {
            Ok(ok) if ok.num_remaining > 0 && !step.last => Some(Query::Bootstrap { reply }),
            Ok(_) => {
                let _ = reply.send(Ok(obj(json!({ "size": routing_table_size(swarm) }))));
                None
            }
            Err(e) => {
                let _ = reply.send(Err(e.to_string()));
                None
            }
        },
        (q, other) => {
            log!("kad: unexpected result for query {id:?}: {other:?}");
            (!step.last).then_some(q)
        }
    };
    if let Some(q) = keep {
        state.kad.0.insert(id, q);
    }
}
