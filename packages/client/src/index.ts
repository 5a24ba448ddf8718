/** The typed client of a node and the path helper for identifiers. */
export { createClient, identifierPath, type NodeClient } from './client.ts';
/** Options and raw requests: base URL, signer or token, clock, timeout. */
export { send, buildHeaders, type ClientOptions, type RequestSpec } from './http.ts';
/** TLS trust for node links over https (the PKI's root, optional client certificate), and the agent it builds. */
export { tlsAgent, type TlsOptions } from './transport.ts';
/** The result of every call: value on 2xx, the node's error otherwise. */
export type { ClientResult, ClientError } from './result.ts';
/** Who a client signs as, and the RFC 9421 headers of one request. */
export { signatureHeaders, type Signer } from './signer.ts';
/** socket.io monitoring stream helpers. */
export { connectMonitor, firstMessage } from './monitor.ts';
/** A child node's standing socket.io link to its parent (its drop tells the parent the child is gone). */
export { connectLink, type LinkConnection } from './link.ts';
/** A viewer token from a stated credential (the viewer's, or an operator's minting for a viewer). */
export { viewerToken, type ViewerCredential, type ViewerTokenResult } from './viewer-token.ts';
/** A provider gateway's one socket.io connection for all its clusters: batched reports, job updates, orders in. */
export {
  createGatewayConnection,
  type GatewayConnection,
  type GatewayOptions,
  type GatewayHandlers,
} from './gateway.ts';
