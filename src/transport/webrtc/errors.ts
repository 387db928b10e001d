/**
 * WebRTC's typed errors. Decoding errors carry the channel's bytes as the reason a stream was
 * reset; connection-level errors say which step of WebRTC Direct failed.
 */
import { Libp2pError } from '../../util/errors.ts'

/** A data channel carried bytes that are not a valid length-prefixed `Message`. */
export class WebRTCMessageError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBRTC_MESSAGE', options)
    this.name = 'WebRTCMessageError'
  }
}

/** A frame (length prefix included) larger than the 16 KiB the spec allows. */
export class WebRTCFrameTooLargeError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBRTC_FRAME_TOO_LARGE', options)
    this.name = 'WebRTCFrameTooLargeError'
  }
}

/** The native WebRTC implementation (node-datachannel in Node) is not installed. */
export class WebRTCUnavailableError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBRTC_UNAVAILABLE', options)
    this.name = 'WebRTCUnavailableError'
  }
}

/** A peer connection or data channel failed or closed before it was usable. */
export class WebRTCConnectionError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBRTC_CONNECTION', options)
    this.name = 'WebRTCConnectionError'
  }
}

/** An ICE username fragment that is not one of the WebRTC Direct forms (v1 or v2). */
export class InvalidUfragError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBRTC_INVALID_UFRAG', options)
    this.name = 'InvalidUfragError'
  }
}

/** A `/webrtc-signaling` message that is malformed, of an unexpected type, or out of order. */
export class WebRTCSignalingError extends Libp2pError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, 'ERR_WEBRTC_SIGNALING', options)
    this.name = 'WebRTCSignalingError'
  }
}
