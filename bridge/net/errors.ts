import { ParanoimError } from '../errors.js'

/** Misuse of the network layer (not started, closed, bad argument) or a failed link operation. */
export class NetError extends ParanoimError {}

/** A link could not be established: handshake timed out, was refused, or the peer's key did not match. */
export class LinkError extends ParanoimError {}
