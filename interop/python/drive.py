"""Drives three p2pd-compatible daemons (A, B, C) through PyPI's p2pclient 0.3.0, as a Python
application would: identify, connect, list peers, a stream each way through handlers, the
connection manager (tag, trim, untag), DHT (find peer, public key, put/get/search a /pk/
record, provide + find providers, closest peers), pubsub (subscribe, list peers, publish,
topics) and disconnect.

A must run with -connManager -connLo=1 -connGrace=0s; A and B with -dhtServer -pubsub.
Prints one line per step, "ok STEP detail" or "FAIL STEP: error", and exits 1 at the first
failure. Every wait is bounded (STEP_TIMEOUT).

Usage: drive.py A_CONTROL B_CONTROL C_CONTROL A_LISTEN B_LISTEN
"""
import sys
import traceback

import anyio
from multiaddr import Multiaddr
from p2pclient import Client
from p2pclient.pb import p2pd_pb2
from p2pclient.utils import get_unused_tcp_port, read_pbmsg_safe

STEP_TIMEOUT = 30
TOPIC = "py-client-topic"
PROTO = "/py-upper/1.0.0"
step = "start"


def ok(name, detail=""):
    print(f"ok {name} {detail}", flush=True)


async def upper_handler(info, stream):
    # one line in, the same line upper-cased back, then close
    data = b""
    while not data.endswith(b"\n"):
        chunk = await stream.receive(1024)
        if not chunk:
            break
        data += chunk
    await stream.send(data.upper())
    await stream.aclose()


async def round_trip(client, peer, text):
    _, stream = await client.stream_open(peer, [PROTO])
    await stream.send(text.encode() + b"\n")
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = await stream.receive(1024)
        if not chunk:
            break
        answer += chunk
    await stream.aclose()
    return answer.decode().strip()


def listen_addr(text):
    # p2pclient sends its listen address as given: a port 0 would be dialed as port 0
    if text.endswith("/tcp/0"):
        text = text[: -len("0")] + str(get_unused_tcp_port())
    return Multiaddr(text)


async def main(argv):
    global step
    a_control, b_control, c_control, a_listen, b_listen = argv
    a_listen, b_listen = listen_addr(a_listen), listen_addr(b_listen)
    a = Client(Multiaddr(a_control), a_listen)
    b = Client(Multiaddr(b_control), b_listen)
    c = Client(Multiaddr(c_control))
    async with a.listen(), b.listen():
        with anyio.fail_after(STEP_TIMEOUT):
            step = "identify"
            id_a, _ = await a.identify()
            id_b, addrs_b = await b.identify()
            id_c, addrs_c = await c.identify()
            ok(step, f"{id_a.to_base58()} {id_b.to_base58()} {len(addrs_b)}")

            step = "connect"
            await a.connect(id_b, addrs_b)
            await a.connect(id_c, addrs_c)
            peers = {p.peer_id for p in await a.list_peers()}
            assert peers == {id_b, id_c}, peers
            ok(step, str(len(peers)))

        with anyio.fail_after(STEP_TIMEOUT):
            step = "stream-a-to-b"
            await b.stream_handler(PROTO, upper_handler)
            ok(step, await round_trip(a, id_b, "from a to b"))
            step = "stream-b-to-a"
            await a.stream_handler(PROTO, upper_handler)
            ok(step, await round_trip(b, id_a, "from b to a"))

        with anyio.fail_after(STEP_TIMEOUT):
            step = "dht-find-peer"
            found = await a.dht_find_peer(id_b)
            assert found.peer_id == id_b
            ok(step, f"{found.peer_id.to_base58()} {len(found.addrs)}")
            step = "dht-get-public-key"
            key_a = await b.dht_get_public_key(id_a)
            ok(step, str(len(key_a.SerializeToString())))
            step = "dht-put-value"
            # a /pk/ record: the key is /pk/ + the peer id's multihash, the value its public key
            record_key = b"/pk/" + id_a.to_bytes()
            await a.dht_put_value(record_key, key_a.SerializeToString())
            ok(step, "")
            step = "dht-get-value"
            value = await b.dht_get_value(record_key)
            assert value == key_a.SerializeToString()
            ok(step, str(len(value)))
            step = "dht-search-value"
            values = await b.dht_search_value(record_key)
            assert key_a.SerializeToString() in values, values
            ok(step, str(len(values)))
            step = "dht-provide"
            cid = bytes.fromhex("01551220") + bytes(range(32))  # CIDv1 raw, sha2-256 of nothing in particular
            await a.dht_provide(cid)
            ok(step, "")
            step = "dht-find-providers"
            providers = await b.dht_find_providers(cid, 20)
            assert id_a in [p.peer_id for p in providers], providers
            ok(step, str(len(providers)))
            step = "dht-get-closest-peers"
            closest = await b.dht_get_closest_peers(id_a.to_bytes())
            assert len(closest) > 0
            ok(step, str(len(closest)))

        with anyio.fail_after(STEP_TIMEOUT):
            step = "pubsub-subscribe"
            sub = await b.pubsub_subscribe(TOPIC)
            ok(step, TOPIC)
            step = "pubsub-receive"
            message = None

            async def receive():
                nonlocal message
                m = p2pd_pb2.PSMessage()
                await read_pbmsg_safe(sub, m)
                message = m

            async with anyio.create_task_group() as tg:
                tg.start_soon(receive)
                # publish until B sees it: the mesh forms on a heartbeat
                while message is None:
                    await a.pubsub_publish(TOPIC, b"hello from python")
                    await anyio.sleep(0.2)
            ok(step, f"{message.data.decode()} {len(message.seqno)}")
            step = "pubsub-list-peers"
            subscribers = await a.pubsub_list_peers(TOPIC)
            assert id_b in subscribers, subscribers
            ok(step, str(len(subscribers)))
            step = "pubsub-get-topics"
            ok(step, ",".join(await b.pubsub_get_topics()))
            await sub.aclose()

        with anyio.fail_after(STEP_TIMEOUT):
            step = "connmgr-trim"
            await a.connmgr_tag_peer(id_b, "py", 10)
            await a.connmgr_trim()
            left = {p.peer_id for p in await a.list_peers()}
            assert left == {id_b}, left
            ok(step, id_b.to_base58())
            step = "connmgr-untag"
            await a.connmgr_untag_peer(id_b, "py")
            ok(step, "")
            step = "disconnect"
            await a.disconnect(id_b)
            assert len(await a.list_peers()) == 0
            ok(step, "")


if __name__ == "__main__":
    try:
        anyio.run(main, sys.argv[1:])
    except BaseException as err:  # noqa: BLE001 - every failure is reported as the step's
        while isinstance(err, BaseExceptionGroup) and len(err.exceptions) > 0:
            err = err.exceptions[0]
        detail = "".join(traceback.format_exception_only(type(err), err)).strip().replace("\n", " | ")
        print(f"FAIL {step}: {detail}", flush=True)
        sys.exit(1)
