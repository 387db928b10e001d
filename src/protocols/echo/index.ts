/** Echo (`/echo/1.0.0`, off by default): `import { echo } from 'ts-libp2p/echo'`, then `services: { echo: echo() }`. */
export { echo, EchoService, serveEcho, echoOverStream, ECHO_PROTOCOL, type EchoOptions, type EchoComponents } from './echo.ts'
