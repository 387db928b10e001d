"""py-libp2p interop peer: the line-oriented control contract of interop/README.md over
py-libp2p 0.8 (PyPI `libp2p`, pinned in requirements.txt, venv made by interop/py-peer/setup.ts).

stdout: JSON lines only (the ready event first, then events and one reply per command);
stdin: one JSON command per line; stderr: logs. Stack: TCP (and /ws, /quic-v1 listen addresses,
which py-libp2p picks transports for), Noise or TLS, Yamux or Mplex, identify, ping, echo,
reset, and gossipsub/floodsub with --pubsub.

Ping RTTs are measured here with a float clock: py-libp2p's PingService rounds to whole ms.
"""

import argparse
import base64
import json
import os
import sys
import time
from typing import Any

import multiaddr
import trio

from libp2p import new_host
from libp2p.abc import INetConn, INetStream, INetwork, INotifee
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_new_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.identity.identify.pb.identify_pb2 import Identify as IdentifyMsg
from libp2p.network.stream.exceptions import StreamEOF, StreamReset
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID, Transport as NoiseTransport
from libp2p.security.tls.transport import PROTOCOL_ID as TLS_ID, TLSTransport
from libp2p.stream_muxer.mplex.mplex import MPLEX_PROTOCOL_ID, Mplex
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_ID, Yamux
from libp2p.utils.varint import read_length_prefixed_protobuf

ECHO = TProtocol("/echo/1.0.0")
RESET = TProtocol("/test/reset/1.0.0")
PING = TProtocol("/ipfs/ping/1.0.0")
IDENTIFY = TProtocol("/ipfs/id/1.0.0")
CHUNK = 64 * 1024


def log(message: str) -> None:
    print(f"[py-peer] {message}", file=sys.stderr, flush=True)


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def pattern(length: int, index: int) -> bytes:
    """The echo payload of interop/README.md: xorshift32 from ((k+1) * 0x9E3779B9) mod 2^32."""
    x = ((index + 1) * 0x9E3779B9) & 0xFFFFFFFF or 1
    out = bytearray((length + 3) // 4 * 4)
    for i in range(0, len(out), 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i:i + 4] = x.to_bytes(4, "little")
    return bytes(out[:length])


class CommandError(Exception):
    pass


class ConnectionEvents(INotifee):
    """peer:connect on a peer's first connection, peer:disconnect after its last."""

    def __init__(self) -> None:
        self.counts: dict[ID, int] = {}

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None: ...

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None: ...

    async def listen(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None: ...

    async def listen_close(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None: ...

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        peer = conn.muxed_conn.peer_id
        self.counts[peer] = self.counts.get(peer, 0) + 1
        if self.counts[peer] == 1:
            emit({"event": "peer:connect", "peerId": str(peer)})

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        peer = conn.muxed_conn.peer_id
        self.counts[peer] = self.counts.get(peer, 1) - 1
        if self.counts[peer] <= 0:
            self.counts.pop(peer, None)
            emit({"event": "peer:disconnect", "peerId": str(peer)})


async def read_exactly(stream: INetStream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = await stream.read(n - len(buf))
        if not chunk:
            raise CommandError(f"stream ended after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


async def read_to_end(stream: INetStream) -> bytes:
    buf = bytearray()
    while True:
        try:
            chunk = await stream.read(CHUNK)
        except StreamEOF:
            return bytes(buf)
        if not chunk:
            return bytes(buf)
        buf += chunk


class Peer:
    def __init__(self, host: Any, pubsub: Any, dht: Any = None) -> None:
        self.host = host
        self.pubsub = pubsub
        self.dht = dht
        self.subscriptions: dict[str, Any] = {}
        self.stop_requested = trio.Event()

    # ------------------------------------------------------------- handlers --

    async def handle_echo(self, stream: INetStream) -> None:
        peer = str(stream.muxed_conn.peer_id)
        total = 0
        try:
            while True:
                try:
                    chunk = await stream.read(CHUNK)
                except StreamEOF:
                    break
                if not chunk:
                    break
                total += len(chunk)
                await stream.write(chunk)
            await stream.close_write()
            emit({"event": "echo:done", "peerId": peer, "bytes": total})
        except Exception as err:  # a reset or a broken connection
            emit({"event": "echo:error", "peerId": peer, "bytes": total, "error": repr(err)})
            try:
                await stream.reset()
            except Exception:
                pass

    async def handle_reset(self, stream: INetStream) -> None:
        try:
            await stream.read(1)
        finally:
            await stream.reset()

    # ------------------------------------------------------------- commands --

    async def cmd_dial(self, cmd: dict[str, Any]) -> dict[str, Any]:
        info = info_from_p2p_addr(multiaddr.Multiaddr(cmd["addr"]))
        await self.host.connect(info)
        if self.dht is not None:
            # py-libp2p's DHT learns peers it is told about; a server we dialed is one
            await self.dht.add_peer(info.peer_id)
        return {"peerId": str(info.peer_id)}

    async def cmd_ping(self, cmd: dict[str, Any]) -> dict[str, Any]:
        stream = await self.host.new_stream(ID.from_base58(cmd["peer"]), [PING])
        rtts = []
        try:
            for _ in range(int(cmd.get("count", 1))):
                payload = os.urandom(32)
                start = time.perf_counter()
                await stream.write(payload)
                if await read_exactly(stream, 32) != payload:
                    raise CommandError("pong does not match ping")
                rtts.append((time.perf_counter() - start) * 1000)
        finally:
            await stream.close()
        return {"rtts": rtts}

    async def cmd_identify(self, cmd: dict[str, Any]) -> dict[str, Any]:
        stream = await self.host.new_stream(ID.from_base58(cmd["peer"]), [IDENTIFY])
        try:
            data = await read_length_prefixed_protobuf(stream, use_varint_format=True)
        finally:
            await stream.close()
        msg = IdentifyMsg()
        msg.ParseFromString(data)
        reply: dict[str, Any] = {
            "protocols": list(msg.protocols),
            "listenAddrs": [str(multiaddr.Multiaddr(a)) for a in msg.listen_addrs],
            "agentVersion": msg.agent_version,
            "protocolVersion": msg.protocol_version,
        }
        if msg.observed_addr:
            reply["observedAddr"] = str(multiaddr.Multiaddr(msg.observed_addr))
        return reply

    async def echo_one(self, peer: ID, length: int, index: int) -> None:
        stream = await self.host.new_stream(peer, [ECHO])
        payload = pattern(length, index)
        received = bytearray()

        async def reader() -> None:
            received.extend(await read_to_end(stream))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            for offset in range(0, length, CHUNK):
                await stream.write(payload[offset:offset + CHUNK])
            await stream.close_write()
        if bytes(received) != payload:
            first = next((i for i in range(min(len(received), length)) if received[i] != payload[i]), min(len(received), length))
            raise CommandError(f"stream {index}: sent {length} bytes, got {len(received)} back, first difference at {first}")

    async def cmd_echo(self, cmd: dict[str, Any]) -> dict[str, Any]:
        peer = ID.from_base58(cmd["peer"])
        length = int(cmd.get("bytes", 1024))
        streams = int(cmd.get("streams", 1))
        async with trio.open_nursery() as nursery:
            for index in range(streams):
                nursery.start_soon(self.echo_one, peer, length, index)
        return {"streams": streams, "bytes": length}

    async def cmd_reset(self, cmd: dict[str, Any]) -> dict[str, Any]:
        stream = await self.host.new_stream(ID.from_base58(cmd["peer"]), [RESET])
        await stream.write(b"reset me")
        try:
            data = await stream.read(1)
        except StreamReset as err:
            return {"error": repr(err) or "StreamReset"}
        except StreamEOF:
            raise CommandError("clean EOF instead of a reset")
        raise CommandError(f"read returned {data!r} instead of a reset")

    async def cmd_connections(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"peers": [str(p) for p in self.host.get_network().get_connections_map() if self.host.get_network().get_connections(p)]}

    async def cmd_hangup(self, cmd: dict[str, Any]) -> dict[str, Any]:
        peer = ID.from_base58(cmd["peer"])
        await self.host.disconnect(peer)
        while self.host.get_network().get_connections(peer):
            await trio.sleep(0.01)  # py-libp2p has no event for "all closed"; polled within the command's limit
        return {}

    async def cmd_stop(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.stop_requested.set()
        return {}

    async def cmd_pubsub_subscribe(self, cmd: dict[str, Any]) -> dict[str, Any]:
        topic = self.require_pubsub(cmd)
        if topic not in self.subscriptions:
            subscription = await self.pubsub.subscribe(topic)
            self.subscriptions[topic] = subscription
            trio.lowlevel.spawn_system_task(self.forward_messages, topic, subscription)
        return {}

    async def forward_messages(self, topic: str, subscription: Any) -> None:
        me = self.host.get_id().to_bytes()
        try:
            while True:
                message = await subscription.get()
                if message.from_id == me:
                    continue
                emit({"event": "pubsub:message", "topic": topic, "from": str(ID(message.from_id)) if message.from_id else "",
                      "seqno": message.seqno.hex().rjust(16, "0") if message.seqno else "", "data": base64.b64encode(message.data).decode()})
        except Exception as err:
            log(f"subscription {topic} ended: {err!r}")

    async def cmd_pubsub_unsubscribe(self, cmd: dict[str, Any]) -> dict[str, Any]:
        topic = self.require_pubsub(cmd)
        if self.subscriptions.pop(topic, None) is not None:
            await self.pubsub.unsubscribe(topic)
        return {}

    async def cmd_pubsub_publish(self, cmd: dict[str, Any]) -> dict[str, Any]:
        topic = self.require_pubsub(cmd)
        await self.pubsub.publish(topic, base64.b64decode(cmd["data"]))
        return {}

    async def cmd_pubsub_peers(self, cmd: dict[str, Any]) -> dict[str, Any]:
        topic = self.require_pubsub(cmd)
        peers = self.pubsub.peer_topics.get(topic, set())
        return {"peers": [str(p) for p in peers if self.host.get_network().get_connections(p)]}

    # --------------------------------------------------------------- DHT --

    def require_dht(self) -> Any:
        if self.dht is None:
            raise CommandError("the DHT is not enabled (--dht)")
        return self.dht

    async def cmd_dht_findPeer(self, cmd: dict[str, Any]) -> dict[str, Any]:
        info = await self.require_dht().find_peer(ID.from_base58(cmd["peer"]))
        if info is None:
            raise CommandError("peer not found")
        return {"peerId": str(info.peer_id), "addrs": [str(a) for a in info.addrs]}

    async def cmd_dht_provide(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if not await self.require_dht().provide(str(cmd["cid"])):
            raise CommandError("no peer took the provider record")
        return {}

    async def cmd_dht_findProviders(self, cmd: dict[str, Any]) -> dict[str, Any]:
        found = await self.require_dht().find_providers(str(cmd["cid"]), int(cmd.get("count", 20)))
        return {"providers": [{"peerId": str(p.peer_id), "addrs": [str(a) for a in p.addrs]} for p in found]}

    async def cmd_dht_bootstrap(self, cmd: dict[str, Any]) -> dict[str, Any]:
        dht = self.require_dht()
        await dht.refresh_routing_table()
        return {"size": dht.get_routing_table_size()}

    async def cmd_dht_routingTable(self, cmd: dict[str, Any]) -> dict[str, Any]:
        dht = self.require_dht()
        return {"peers": [str(p) for bucket in dht.routing_table.buckets for p in bucket.peer_ids()]}

    def require_pubsub(self, cmd: dict[str, Any]) -> str:
        if self.pubsub is None:
            raise CommandError("pubsub is not enabled (--pubsub)")
        return str(cmd["topic"])

    # --------------------------------------------------------------- driver --

    async def run_command(self, cmd: dict[str, Any]) -> None:
        cid = cmd.get("id")
        name = str(cmd.get("cmd", "")).replace(".", "_")
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None:
            emit({"id": cid, "ok": False, "error": f"unknown command {cmd.get('cmd')!r}"})
            return
        limit = float(cmd.get("timeoutMs", 120_000 if name == "echo" else 30_000)) / 1000
        try:
            with trio.fail_after(limit):
                reply = await handler(cmd)
            emit({"id": cid, "ok": True, **reply})
        except trio.TooSlowError:
            emit({"id": cid, "ok": False, "error": f"{cmd.get('cmd')} timed out after {limit} s"})
        except Exception as err:
            emit({"id": cid, "ok": False, "error": f"{type(err).__name__}: {err}"})

    async def read_commands(self, nursery: trio.Nursery) -> None:
        stdin = trio.lowlevel.FdStream(os.dup(0))
        buffered = b""
        while True:
            chunk = await stdin.receive_some(65536)
            if not chunk:
                self.stop_requested.set()
                return
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                try:
                    cmd = json.loads(line)
                    if not isinstance(cmd, dict):
                        raise ValueError("not an object")
                except ValueError as err:
                    emit({"id": None, "ok": False, "error": f"bad command line: {err}"})
                    continue
                nursery.start_soon(self.run_command, cmd)


def expand_wildcards(addrs: list[multiaddr.Multiaddr]) -> list[str]:
    """/ip4/0.0.0.0/... as one address per local IPv4 interface, as go and js report them
    (py-libp2p 0.8 reports the wildcard itself, which nobody can dial)."""
    import ifaddr
    ips = [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)]
    out: list[str] = []
    for addr in map(str, addrs):
        if addr.startswith("/ip4/0.0.0.0/"):
            out.extend(addr.replace("/ip4/0.0.0.0/", f"/ip4/{ip}/", 1) for ip in ips)
        else:
            out.append(addr)
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="py-peer")
    parser.add_argument("--listen", action="append", default=[])
    parser.add_argument("--muxer", choices=["yamux", "mplex"], default="yamux")
    parser.add_argument("--security", choices=["noise", "tls"], default="noise")
    parser.add_argument("--key-seed")
    parser.add_argument("--agent")
    parser.add_argument("--pubsub", choices=["gossipsub", "floodsub"])
    parser.add_argument("--dht", choices=["server", "client"])
    return parser.parse_args()


async def main(args: argparse.Namespace) -> int:
    if args.agent:
        # py-libp2p's identify sends this module constant; it has no option for it
        import libp2p.identity.identify.identify as identify_module
        identify_module.AGENT_VERSION = args.agent
    seed = bytes.fromhex(args.key_seed) if args.key_seed else None
    if seed is not None and len(seed) != 32:
        log("--key-seed must be 32 bytes of hex")
        return 2
    key_pair = create_new_key_pair(seed)
    if args.security == "noise":
        security = {NOISE_ID: NoiseTransport(key_pair, noise_privkey=create_new_x25519_key_pair().private_key)}
    else:
        security = {TLS_ID: TLSTransport(key_pair)}
    muxer = {MPLEX_PROTOCOL_ID: Mplex} if args.muxer == "mplex" else {YAMUX_ID: Yamux}
    listen = [multiaddr.Multiaddr(a) for a in (args.listen or ["/ip4/127.0.0.1/tcp/0"])]
    host = new_host(key_pair=key_pair, sec_opt=security, muxer_opt=muxer, listen_addrs=listen,
                    enable_quic=any("/quic-v1" in str(a) for a in listen))
    pubsub = None
    events = ConnectionEvents()
    host.get_network().register_notifee(events)
    async with host.run(listen_addrs=listen), trio.open_nursery() as nursery:
        if args.pubsub is not None:
            from libp2p.pubsub.floodsub import FloodSub
            from libp2p.pubsub.gossipsub import GossipSub
            from libp2p.pubsub.pubsub import Pubsub
            from libp2p.tools.anyio_service.context import background_trio_service
            router = FloodSub(protocols=[TProtocol("/floodsub/1.0.0")]) if args.pubsub == "floodsub" else GossipSub(
                protocols=[TProtocol("/meshsub/1.1.0"), TProtocol("/meshsub/1.0.0"), TProtocol("/floodsub/1.0.0")],
                degree=6, degree_low=4, degree_high=12, heartbeat_interval=1,
                # every interop peer is on 127.0.0.1: an IP-diversity rule for the public network
                eclipse_protection_enabled=False)
            pubsub = Pubsub(host, router)
            await nursery.start(_run_services, pubsub, router, background_trio_service)
        dht = None
        if args.dht is not None:
            from libp2p.kad_dht.kad_dht import DHTMode, KadDHT
            from libp2p.tools.anyio_service.context import background_trio_service as background
            dht = KadDHT(host, DHTMode.SERVER if args.dht == "server" else DHTMode.CLIENT)
            await nursery.start(_run_dht, dht, background)
        peer = Peer(host, pubsub, dht)
        host.set_stream_handler(ECHO, peer.handle_echo)
        host.set_stream_handler(RESET, peer.handle_reset)
        me = str(host.get_id())
        addrs = [str(a) if "/p2p/" in str(a) else f"{a}/p2p/{me}" for a in expand_wildcards(host.get_addrs())]
        emit({"event": "ready", "peerId": me, "addrs": addrs})
        nursery.start_soon(peer.read_commands, nursery)
        await peer.stop_requested.wait()
        nursery.cancel_scope.cancel()
    return 0


async def _run_dht(dht: Any, background: Any, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    async with background(dht):
        task_status.started()
        await trio.sleep_forever()


async def _run_services(pubsub: Any, router: Any, background: Any, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    async with background(pubsub), background(router):
        await pubsub.wait_until_ready()
        task_status.started()
        await trio.sleep_forever()


if __name__ == "__main__":
    try:
        code = trio.run(main, parse_args())
    except KeyboardInterrupt:
        code = 0
    sys.stdout.flush()
    os._exit(code)
