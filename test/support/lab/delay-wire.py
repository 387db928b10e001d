#!/usr/bin/env python3
"""The lab's delay wire: copies every Ethernet frame between two interfaces, each one
DELAY_MS later than it arrived. This kernel has no netem, so the NAT lab puts this program
(standard library only) between a router's WAN and the "internet" bridge to give the path a
real round-trip time, which hole punching needs (SYNs must cross in flight).

usage: delay-wire.py IF_A IF_B DELAY_MS
Run it inside the wire's own namespace, with both interfaces up, promiscuous and with offloads
off (else the kernel hands us 64 KiB super-frames that the other side cannot send). Prints
"ready" once both sockets are bound, so the lab waits on that instead of on a sleep."""
import heapq
import select
import socket
import sys
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # frames we sent ourselves come back on the same socket: skip them


def open_raw(interface):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((interface, 0))
    sock.setblocking(False)
    return sock


def main():
    left, right, delay_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    delay = delay_ms / 1000.0
    sockets = {left: open_raw(left), right: open_raw(right)}
    other = {left: right, right: left}
    by_socket = {sockets[left]: left, sockets[right]: right}
    pending = []  # (due time, arrival order, out interface, frame): order keeps FIFO on ties
    arrivals = 0
    wake = threading.Condition()

    def release():
        while True:
            with wake:
                while not pending or pending[0][0] > time.monotonic():
                    wake.wait(None if not pending else pending[0][0] - time.monotonic())
                _, _, out, frame = heapq.heappop(pending)
            try:
                sockets[out].send(frame)
            except OSError:
                pass  # an interface going away during teardown

    threading.Thread(target=release, daemon=True).start()
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select(list(by_socket), [], [])
        for sock in readable:
            incoming = by_socket[sock]
            while True:
                try:
                    frame, address = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue
                with wake:
                    arrivals += 1
                    heapq.heappush(pending, (time.monotonic() + delay, arrivals, other[incoming], frame))
                    wake.notify()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
