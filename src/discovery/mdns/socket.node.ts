/**
 * The multicast sockets of mDNS (RFC 6762): one UDP socket per family bound to port 5353 with
 * SO_REUSEADDR (other responders on the host keep working), joined to 224.0.0.251 and ff02::fb
 * on every non-loopback interface that has an address of that family when the service starts.
 * Sending goes out on each of those interfaces in turn, one send at a time (the outgoing
 * interface is socket state, so two sends in flight could pick the wrong one). Node.js only.
 */
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { networkInterfaces } from 'node:os'

export const MDNS_PORT = 5353
export const MDNS_GROUP_V4 = '224.0.0.251'
export const MDNS_GROUP_V6 = 'ff02::fb'

export interface MdnsSocketsOptions {
  ipv4: boolean
  ipv6: boolean
  port?: number
  onMessage(bytes: Uint8Array, from: string): void
  onError(err: Error): void
}

export interface MdnsSockets {
  /** Multicasts `bytes` on every joined interface; resolves when handed to the kernel. */
  send(bytes: Uint8Array): Promise<void>
  /** Interfaces joined, per family (names), for logs and tests. */
  readonly joined: { v4: string[], v6: string[] }
  close(): void
}

interface Family {
  socket: Socket
  group: string
  /** setMulticastInterface argument per joined interface */
  outgoing: string[]
}

export async function openMdnsSockets (options: MdnsSocketsOptions): Promise<MdnsSockets> {
  const port = options.port ?? MDNS_PORT
  const families: Family[] = []
  const joined = { v4: [] as string[], v6: [] as string[] }
  const interfaces = networkInterfaces()
  try {
    if (options.ipv4) {
      const v4 = Object.entries(interfaces).flatMap(([name, addrs]) => (addrs ?? []).filter(a => a.family === 'IPv4' && !a.internal).map(a => ({ name, address: a.address })))
      if (v4.length > 0) {
        const socket = await bound('udp4', port, '0.0.0.0', options)
        const family: Family = { socket, group: MDNS_GROUP_V4, outgoing: [] }
        families.push(family)
        socket.setMulticastTTL(255)
        socket.setMulticastLoopback(true)
        for (const { name, address } of v4) {
          try {
            socket.addMembership(MDNS_GROUP_V4, address)
            family.outgoing.push(address)
            joined.v4.push(name)
          } catch (err) {
            options.onError(err as Error)
          }
        }
      }
    }
    if (options.ipv6) {
      const names = Object.entries(interfaces).filter(([, addrs]) => (addrs ?? []).some(a => a.family === 'IPv6' && !a.internal)).map(([name]) => name)
      if (names.length > 0) {
        const socket = await bound('udp6', port, '::', options)
        const family: Family = { socket, group: MDNS_GROUP_V6, outgoing: [] }
        families.push(family)
        socket.setMulticastTTL(255)
        socket.setMulticastLoopback(true)
        for (const name of names) {
          try {
            socket.addMembership(MDNS_GROUP_V6, `::%${name}`)
            family.outgoing.push(`::%${name}`)
            joined.v6.push(name)
          } catch (err) {
            options.onError(err as Error)
          }
        }
      }
    }
  } catch (err) {
    for (const f of families) f.socket.close()
    throw err
  }

  let queue = Promise.resolve()
  let closed = false
  return {
    joined,
    async send (bytes) {
      const run = queue.then(async () => {
        for (const family of families) {
          for (const outgoing of family.outgoing) {
            if (closed) return
            family.socket.setMulticastInterface(outgoing)
            await new Promise<void>(resolve => {
              family.socket.send(bytes, port, family.group, err => {
                if (err !== null && err !== undefined) options.onError(err)
                resolve()
              })
            })
          }
        }
      })
      queue = run.catch(() => {})
      await run
    },
    close () {
      if (closed) return
      closed = true
      for (const f of families) f.socket.close()
    }
  }
}

async function bound (type: 'udp4' | 'udp6', port: number, address: string, options: MdnsSocketsOptions): Promise<Socket> {
  const socket = createSocket({ type, reuseAddr: true, ipv6Only: type === 'udp6' })
  socket.on('message', (msg, rinfo) => { options.onMessage(msg, rinfo.address) })
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => { reject(err) }
    socket.once('error', onError)
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', onError)
      resolve()
    })
  })
  socket.on('error', options.onError)
  return socket
}
