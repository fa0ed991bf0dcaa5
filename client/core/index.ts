/** The client core shared by the SDK, the CLI and the monitor: error model, HTTP requests, socket acks. */
export { type AckResult, type AckSocket, readAck, requestWithAck } from './ack.js';
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  errorFromConnect,
  errorFromHttp,
  HUB_ERROR_CODES,
  isErrorBody,
  isHubErrorCode,
  notConnected,
  SwitchboardError,
  type SwitchboardErrorCode,
  type SwitchboardErrorOptions,
  toSwitchboardError,
} from './errors.js';
export {
  baseUrl,
  type HubAnswer,
  type HubHttpOptions,
  hubDownload,
  hubDownloadFailover,
  hubRequest,
  hubRequestFailover,
  readJson,
} from './http.js';
export {
  type Backoff,
  DEFAULT_BACKOFF,
  HubRotation,
  isIdempotent,
  neverDelivered,
  parseHubUrls,
} from './hubs.js';
