/**
 * Circuit relay v2 (specs relay/circuit-v2.md), from `ts-libp2p/circuit-relay-v2`:
 * - `circuitRelayServer()`: a service that lets peers reserve a slot and be reached through us;
 * - `circuitRelayTransport()`: dial `<relay>/p2p-circuit/p2p/<peer>`, listen on
 *   `<relay>/p2p-circuit` through a reservation, accept relayed connections (limited ones);
 *   listening on `/p2p-circuit` runs auto-relay (reservations on relays it finds once private);
 * - the wire messages and vouchers, for tools and tests.
 */
export { circuitRelayServer, CircuitRelayServer, type CircuitRelayServerOptions, type CircuitRelayServerComponents } from './server.ts'
export { HOP_PROTOCOL, STOP_PROTOCOL, RelayStatus, relayStatusName, HopType, StopType, encodeHopMessage, decodeHopMessage, encodeStopMessage, decodeStopMessage, MAX_RELAY_MESSAGE_SIZE, type HopMessage, type StopMessage, type RelayPeer, type RelayReservation, type RelayLimit, type RelayStatusCode } from './messages.ts'
export { VOUCHER_DOMAIN, VOUCHER_PAYLOAD_TYPE, sealVoucher, verifyVoucher, encodeVoucher, decodeVoucher, type Voucher } from './voucher.ts'
export { RelayStatusError, InvalidVoucherError, InvalidReservationError, RelayLimitError } from './errors.ts'
export { circuitRelayTransport, CircuitRelayTransport, parseCircuitAddr, type CircuitRelayTransportOptions } from './transport.ts'
export { RELAY_KEEP_ALIVE_TAG, type ReservationOptions } from './reservations.ts'
export { type AutoRelayOptions } from './auto-relay.ts'
