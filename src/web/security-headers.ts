/**
 * The headers every answer of the web server carries (docs/rest.md#security): no content sniffing,
 * no referrer, no framing; HTML pages also a Content-Security-Policy that allows nothing but this
 * origin, so that even a string of the cluster that reached the page as markup could not run script
 * or load anything from elsewhere. The dashboard has no inline script or style for this reason.
 */

/** On every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** On HTML answers. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The security headers as lines of a raw HTTP answer (for the answers written to the socket by hand). */
export const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join("");
