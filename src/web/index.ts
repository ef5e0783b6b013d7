/** The JobManager's HTTP server: REST API (Flink's field names), live events, /metrics, dashboard. */
export { startWebServer, DEFAULT_WEB_HOST, DEFAULT_WEB_PORT, type WebServer, type WebServerOptions } from "./web-server.js";
export { MAX_BODY_BYTES } from "./http-reply.js";
export { MAX_EVENT_CLIENTS } from "./live-events.js";
