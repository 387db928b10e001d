//! The libp2p node: transports (TCP, WebSocket, QUIC, circuit relay), behaviours, and the one
//! task that owns the `Swarm`. Commands reach the swarm as `Job`s (closures run inside that
//! task); what they wait for (a connection, an identify, a query result) is parked in `State`
//! and answered from the swarm's events.

use crate::{autonat, commands, dht, inbound, pubsub, rendezvous, streams, Config, DhtMode, Muxer, Security};
use crate::output::emit_event;
use futures::future::Either;
use futures::StreamExt;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, OrTransport};
use libp2p::core::upgrade::Version;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{ConnectionId, NetworkBehaviour, SwarmEvent};
use libp2p::{
    dcutr, gossipsub, identify, identity, kad, noise, quic, relay, tcp, tls, yamux, Multiaddr,
    PeerId, StreamProtocol, Swarm, Transport,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The identify protocolVersion we send (the one ts-libp2p and js-libp2p send).
pub const PROTOCOL_VERSION: &str = "ipfs/0.1.0";

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub identify: identify::Behaviour,
    /// serves /ipfs/ping/1.0.0, /echo/1.0.0, /test/reset/1.0.0, /perf/1.0.0 (streams.rs). Not
    /// rust-libp2p's ping behaviour: it pings every connection on a timer and leaves that
    /// stream open and idle in between, which holds up the other side's graceful close.
    pub inbound: inbound::Behaviour,
    /// opens our outbound streams of those protocols
    pub stream: libp2p_stream::Behaviour,
    pub relay_client: relay::client::Behaviour,
    pub dcutr: dcutr::Behaviour,
    pub relay_server: Toggle<relay::Behaviour>,
    pub kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    pub gossipsub: Toggle<gossipsub::Behaviour>,
    pub rendezvous_client: libp2p::rendezvous::client::Behaviour,
    pub rendezvous_server: Toggle<libp2p::rendezvous::server::Behaviour>,
    pub autonat: Toggle<libp2p::autonat::v1::Behaviour>,
    pub autonat_v2_client: Toggle<libp2p::autonat::v2::client::Behaviour>,
    pub autonat_v2_server: Toggle<libp2p::autonat::v2::server::Behaviour>,
}

/// A closure run inside the swarm task with exclusive access to the swarm and its state.
pub type Job = Box<dyn FnOnce(&mut Swarm<Behaviour>, &mut State) + Send>;

/// What commands wait for, answered from swarm events.
#[derive(Default)]
pub struct State {
    /// the latest identify each peer sent us
    pub identified: HashMap<PeerId, identify::Info>,
    pub identify_waiters: HashMap<PeerId, Vec<oneshot::Sender<identify::Info>>>,
    /// dial commands waiting for a connection to a peer
    pub dial_waiters: HashMap<PeerId, Vec<oneshot::Sender<Result<(), String>>>>,
    /// our outgoing dials, so a failure is matched to its waiters
    pub dials: HashMap<ConnectionId, PeerId>,
    pub hangup_waiters: HashMap<PeerId, Vec<oneshot::Sender<()>>>,
    pub kad: dht::Queries,
    pub rendezvous: rendezvous::Pending,
    /// listeners that have not reported an address yet (start-up)
    pub unready_listeners: HashSet<libp2p::core::transport::ListenerId>,
    /// the position of each listener on the command line, to print addresses in that order
    pub listener_order: HashMap<libp2p::core::transport::ListenerId, usize>,
    /// relays whose reservation we still wait for (start-up)
    pub unreserved_relays: HashSet<PeerId>,
    pub listen_addrs: Vec<(usize, Multiaddr)>,
    pub circuit_addrs: Vec<String>,
    pub kad_protocol: Option<StreamProtocol>,
    /// with AutoNAT v2 its client confirms external addresses itself: ours are left to it
    pub autonat_v2_confirms: bool,
}

/// Everything a command needs: the way into the swarm task and a stream control.
#[derive(Clone)]
pub struct Ctx {
    pub jobs: mpsc::UnboundedSender<Job>,
    pub control: libp2p_stream::Control,
    pub shutdown: mpsc::UnboundedSender<String>,
}

impl Ctx {
    /// Runs `f` in the swarm task and waits for what it (or a later event) sends back.
    pub async fn with_swarm<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Swarm<Behaviour>, &mut State, oneshot::Sender<T>) + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |swarm, state| f(swarm, state, tx)))
            .map_err(|_| "the node has stopped".to_string())?;
        rx.await.map_err(|_| "the node dropped the request (stopping?)".to_string())
    }
}

fn upgrade<T>(base: T, key: &identity::Keypair, security: Security, muxer: Muxer) -> Result<Boxed<(PeerId, StreamMuxerBox)>, String>
where
    T: Transport + Send + Unpin + 'static,
    T::Output: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
    T::Error: Send + Sync + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
{
    let builder = base.upgrade(Version::V1);
    let timeout = Duration::from_secs(20);
    Ok(match (security, muxer) {
        (Security::Noise, Muxer::Yamux) => builder
            .authenticate(noise::Config::new(key).map_err(|e| e.to_string())?)
            .multiplex(yamux::Config::default())
            .timeout(timeout)
            .boxed(),
        (Security::Noise, Muxer::Mplex) => builder
            .authenticate(noise::Config::new(key).map_err(|e| e.to_string())?)
            .multiplex(libp2p_mplex::Config::new())
            .timeout(timeout)
            .boxed(),
        (Security::Tls, Muxer::Yamux) => builder
            .authenticate(tls::Config::new(key).map_err(|e| e.to_string())?)
            .multiplex(yamux::Config::default())
            .timeout(timeout)
            .boxed(),
        (Security::Tls, Muxer::Mplex) => builder
            .authenticate(tls::Config::new(key).map_err(|e| e.to_string())?)
            .multiplex(libp2p_mplex::Config::new())
            .timeout(timeout)
            .boxed(),
    })
}

/// TCP and WebSocket (and circuit relay over them) with the chosen security and muxer, and
/// QUIC beside them (QUIC brings its own TLS and streams).
fn build_transport(key: &identity::Keypair, cfg: &Config, relay: relay::client::Transport) -> Result<Boxed<(PeerId, StreamMuxerBox)>, String> {
    let tcp_config = tcp::Config::default().nodelay(true);
    let ws = libp2p_websocket::Config::new(tcp::tokio::Transport::new(tcp_config.clone()));
    let base = OrTransport::new(relay, OrTransport::new(ws, tcp::tokio::Transport::new(tcp_config)));
    let upgraded = upgrade(base, key, cfg.security, cfg.muxer)?;
    let quic = quic::tokio::Transport::new(quic::Config::new(key))
        .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)));
    Ok(OrTransport::new(quic, upgraded)
        .map(|either, _| match either {
            Either::Left(out) => out,
            Either::Right(out) => out,
        })
        .boxed())
}

fn build_behaviour(
    key: &identity::Keypair,
    cfg: &Config,
    relay_client: relay::client::Behaviour,
    inbound: inbound::Behaviour,
) -> Result<Behaviour, String> {
    let peer_id = key.public().to_peer_id();
    let agent = cfg.agent.clone().unwrap_or_else(|| "rust-libp2p/0.57.1 interop-rust-peer".to_string());
    let identify = identify::Behaviour::new(
        identify::Config::new_with_signed_peer_record(PROTOCOL_VERSION.to_string(), key).with_agent_version(agent),
    );
    let kad = cfg.dht.map(|mode| {
        let mut kad = kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad::Config::new(kad::PROTOCOL_NAME));
        // loopback-only test networks never confirm an external address, so rust-libp2p
        // would stay a client: the flag decides, as it does for the go and js peers
        kad.set_mode(Some(if mode == DhtMode::Server { kad::Mode::Server } else { kad::Mode::Client }));
        kad
    });
    let gossipsub = if cfg.gossipsub { Some(pubsub::behaviour(key)?) } else { None };
    let relay_server = cfg.relay_server.then(|| relay::Behaviour::new(peer_id, relay::Config::default()));
    let rendezvous_server = cfg
        .rendezvous_server
        .then(|| libp2p::rendezvous::server::Behaviour::new(libp2p::rendezvous::server::Config::default()));
    let autonat = cfg.autonat.then(|| {
        let defaults = libp2p::autonat::v1::Config::default();
        libp2p::autonat::v1::Behaviour::new(
            peer_id,
            // loopback test networks: let the server dial private addresses
            libp2p::autonat::v1::Config {
                only_global_ips: false,
                boot_delay: cfg.autonat_interval.unwrap_or(defaults.boot_delay),
                retry_interval: cfg.autonat_interval.unwrap_or(defaults.retry_interval),
                // one ts server answers every probe of a test
                throttle_server_period: cfg.autonat_interval.map_or(defaults.throttle_server_period, |_| Duration::ZERO),
                ..defaults
            },
        )
    });
    Ok(Behaviour {
        identify,
        inbound,
        stream: libp2p_stream::Behaviour::new(),
        relay_client,
        dcutr: dcutr::Behaviour::new(peer_id),
        relay_server: relay_server.into(),
        kad: kad.into(),
        gossipsub: gossipsub.into(),
        rendezvous_client: libp2p::rendezvous::client::Behaviour::new(key.clone()),
        rendezvous_server: rendezvous_server.into(),
        autonat: autonat.into(),
        autonat_v2_client: cfg.autonat_v2.then(libp2p::autonat::v2::client::Behaviour::default).into(),
        autonat_v2_server: cfg.autonat_v2.then(libp2p::autonat::v2::server::Behaviour::default).into(),
    })
}

fn with_peer(addr: &Multiaddr, peer: PeerId) -> String {
    format!("{}/p2p/{peer}", addr)
}

/// Starts the node, prints `ready`, serves commands until a stop, and returns the exit code.
pub async fn run(cfg: Config) -> i32 {
    let key = match cfg.key_seed {
        Some(seed) => identity::Keypair::ed25519_from_bytes(seed).expect("32-byte seed"),
        None => identity::Keypair::generate_ed25519(),
    };
    let peer_id = key.public().to_peer_id();
    let (relay_transport, relay_client) = relay::client::new(peer_id);
    let transport = match build_transport(&key, &cfg, relay_transport) {
        Ok(t) => t,
        Err(e) => {
            log!("error: transport: {e}");
            return 1;
        }
    };
    let (inbound, incoming) = inbound::Behaviour::new(streams::served(&cfg));
    let behaviour = match build_behaviour(&key, &cfg, relay_client, inbound) {
        Ok(b) => b,
        Err(e) => {
            log!("error: behaviour: {e}");
            return 1;
        }
    };
    let swarm_config = libp2p::swarm::Config::with_tokio_executor()
        // tests decide when connections close; an idle one must not go away by itself
        .with_idle_connection_timeout(Duration::from_secs(3600))
        .with_max_negotiating_inbound_streams(1024);
    let mut swarm = Swarm::new(transport, behaviour, peer_id, swarm_config);

    let mut state = State::default();
    state.kad_protocol = cfg.dht.map(|_| kad::PROTOCOL_NAME);
    state.autonat_v2_confirms = cfg.autonat_v2;
    for (position, addr) in cfg.listen.iter().enumerate() {
        match swarm.listen_on(addr.clone()) {
            Ok(id) => {
                state.unready_listeners.insert(id);
                state.listener_order.insert(id, position);
            }
            Err(e) => {
                log!("error: listen on {addr}: {e}");
                return 1;
            }
        }
    }
    for relay_addr in &cfg.relays {
        let Some(Protocol::P2p(relay_peer)) = relay_addr.iter().last() else {
            log!("error: --relay {relay_addr} must end with /p2p/<relay>");
            return 2;
        };
        state.unreserved_relays.insert(relay_peer);
        if let Err(e) = swarm.listen_on(relay_addr.clone().with(Protocol::P2pCircuit)) {
            log!("error: reserve on {relay_addr}: {e}");
            return 1;
        }
    }

    let control = swarm.behaviour().stream.new_control();
    let (jobs_tx, mut jobs_rx) = mpsc::unbounded_channel::<Job>();
    let (shutdown_tx, mut shutdown_rx) = mpsc::unbounded_channel::<String>();
    let ctx = Ctx {
        jobs: jobs_tx,
        control,
        shutdown: shutdown_tx.clone(),
    };
    streams::serve(incoming);

    // start-up: wait until every listener has an address and every reservation is accepted
    let startup = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(startup);
    // (a reservation is accepted before its circuit address is reported: wait for both)
    while !state.unready_listeners.is_empty() || !state.unreserved_relays.is_empty() || state.circuit_addrs.len() < cfg.relays.len() {
        tokio::select! {
            event = swarm.select_next_some() => {
                if let SwarmEvent::ListenerClosed { listener_id, reason, .. } = &event {
                    if state.unready_listeners.contains(listener_id) || reason.is_err() {
                        log!("error: listener closed during start-up: {reason:?}");
                        return 1;
                    }
                }
                handle_event(&mut swarm, &mut state, event);
            }
            _ = &mut startup => {
                log!("error: not listening / reserved within 30 s");
                return 1;
            }
        }
    }
    state.listen_addrs.sort_by_key(|(position, _)| *position);
    let mut addrs: Vec<String> = state.listen_addrs.iter().map(|(_, a)| with_peer(a, peer_id)).collect();
    addrs.extend(state.circuit_addrs.iter().cloned());
    emit_event("ready", json!({ "peerId": peer_id.to_string(), "addrs": addrs }));

    tokio::spawn(commands::read_commands(ctx.clone()));
    {
        let shutdown = shutdown_tx.clone();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => { let _ = shutdown.send("SIGTERM".into()); }
                _ = tokio::signal::ctrl_c() => { let _ = shutdown.send("SIGINT".into()); }
            }
        });
    }

    let why = loop {
        tokio::select! {
            event = swarm.select_next_some() => handle_event(&mut swarm, &mut state, event),
            Some(job) = jobs_rx.recv() => job(&mut swarm, &mut state),
            Some(why) = shutdown_rx.recv() => break why,
        }
    };
    log!("stopping ({why})");
    // close every connection, bounded: the contract abandons a node that takes over 5 s
    let peers: Vec<PeerId> = swarm.connected_peers().copied().collect();
    for p in peers {
        let _ = swarm.disconnect_peer_id(p);
    }
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while swarm.connected_peers().next().is_some() {
            let event = swarm.select_next_some().await;
            handle_event(&mut swarm, &mut state, event);
        }
    })
    .await;
    0
}

fn handle_event(swarm: &mut Swarm<Behaviour>, state: &mut State, event: SwarmEvent<BehaviourEvent>) {
    match event {
        SwarmEvent::NewListenAddr { listener_id, address } => {
            state.unready_listeners.remove(&listener_id);
            if address.iter().any(|p| p == Protocol::P2pCircuit) {
                let text = address.to_string();
                let full = if text.ends_with(&format!("/p2p/{}", swarm.local_peer_id())) { text } else { with_peer(&address, *swarm.local_peer_id()) };
                if !state.circuit_addrs.contains(&full) {
                    state.circuit_addrs.push(full);
                }
            } else {
                // every peer here is on this machine: our listen addresses are how they reach
                // us (kad and relay reservations announce external addresses only). Not with
                // AutoNAT v2: its client tests only candidates that are not confirmed yet.
                if !state.autonat_v2_confirms {
                    swarm.add_external_address(address.clone());
                }
                let position = state.listener_order.get(&listener_id).copied().unwrap_or(usize::MAX);
                state.listen_addrs.push((position, address));
            }
        }
        SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
            if num_established.get() == 1 {
                emit_event("peer:connect", json!({ "peerId": peer_id.to_string() }));
            }
            for w in state.dial_waiters.remove(&peer_id).unwrap_or_default() {
                let _ = w.send(Ok(()));
            }
        }
        SwarmEvent::ConnectionClosed { peer_id, num_established, .. } => {
            if num_established == 0 {
                emit_event("peer:disconnect", json!({ "peerId": peer_id.to_string() }));
                for w in state.hangup_waiters.remove(&peer_id).unwrap_or_default() {
                    let _ = w.send(());
                }
            }
        }
        SwarmEvent::OutgoingConnectionError { connection_id, error, .. } => {
            if let Some(peer) = state.dials.remove(&connection_id) {
                if !swarm.is_connected(&peer) {
                    for w in state.dial_waiters.remove(&peer).unwrap_or_default() {
                        let _ = w.send(Err(error.to_string()));
                    }
                }
            }
        }
        SwarmEvent::Behaviour(event) => handle_behaviour_event(swarm, state, event),
        _ => {}
    }
}

fn handle_behaviour_event(swarm: &mut Swarm<Behaviour>, state: &mut State, event: BehaviourEvent) {
    match event {
        BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
            if let (Some(kad_protocol), Some(kad)) = (&state.kad_protocol, swarm.behaviour_mut().kad.as_mut()) {
                // rust-libp2p's Kademlia learns a dialer's addresses only from the application
                if info.protocols.contains(kad_protocol) {
                    for addr in &info.listen_addrs {
                        if !addr.iter().any(|p| p == Protocol::P2pCircuit) {
                            kad.add_address(&peer_id, addr.clone());
                        }
                    }
                }
            }
            for w in state.identify_waiters.remove(&peer_id).unwrap_or_default() {
                let _ = w.send(info.clone());
            }
            state.identified.insert(peer_id, info);
        }
        BehaviourEvent::Identify(identify::Event::Error { peer_id, error, .. }) => {
            log!("identify with {peer_id} failed: {error}");
        }
        BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted { relay_peer_id, .. }) => {
            state.unreserved_relays.remove(&relay_peer_id);
        }
        BehaviourEvent::Dcutr(dcutr::Event { remote_peer_id, result }) => {
            let mut fields = json!({ "peer": remote_peer_id.to_string(), "success": result.is_ok() });
            if let Err(e) = result {
                fields["error"] = json!(e.to_string());
            }
            emit_event("holepunch", fields);
        }
        BehaviourEvent::Kad(event) => dht::on_event(swarm, state, event),
        BehaviourEvent::Gossipsub(event) => pubsub::on_event(event),
        BehaviourEvent::RendezvousClient(event) => rendezvous::on_client_event(state, event),
        BehaviourEvent::Autonat(event) => autonat::on_event(event),
        BehaviourEvent::AutonatV2Client(event) => autonat::on_v2_client_event(event),
        BehaviourEvent::AutonatV2Server(event) => autonat::on_v2_server_event(event),
        _ => {}
    }
}
