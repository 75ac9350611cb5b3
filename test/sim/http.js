// Small HTTP helpers shared by the identity and Graph halves of the simulator: bodies, JSON, HTML, error shapes.
'use strict';
const crypto = require('crypto');

const MAX_BODY = 1024 * 1024;

function guid() {
  return crypto.randomUUID();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The first value of every key of a query string or form body ('+' decodes to a space, as in any form). */
function firstValues(params) {
  const out = {};
  for (const [key, value] of params) if (!(key in out)) out[key] = value;
  return out;
}

/**
 * Sends a JSON answer. When the request was picked for a 'brokenJson' fault (res.simBrokenJson), the body is cut in
 * half, like a connection that delivered only part of the answer but with a consistent Content-Length.
 */
function sendJson(res, status, body, headers = {}) {
  let text = JSON.stringify(body);
  if (res.simBrokenJson) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  const buf = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'Content-Type': res.simContentType || 'application/json; charset=utf-8',
    'Content-Length': buf.length,
    ...headers,
  });
  res.end(buf);
}

function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** A minimal sign-in-style HTML page. `body` is already HTML. */
function page(title, body) {
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title>` +
    '<style>body{font-family:"Segoe UI",Arial,sans-serif;max-width:440px;margin:60px auto;padding:0 16px;color:#1b1b1b}' +
    'h1{font-size:24px;font-weight:600}button,input{font-size:15px;padding:6px 12px;margin:4px 4px 4px 0}' +
    '.error{color:#a80000}</style></head><body>' +
    `<div>Microsoft (simulated)</div><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

function sendHtml(res, status, html, headers = {}) {
  const buf = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': buf.length,
    'Cache-Control': 'no-store, no-cache',
    ...headers,
  });
  res.end(buf);
}

/** Microsoft's timestamp format in AADSTS errors: '2026-11-27 09:00:00Z'. */
function aadTimestamp(ms) {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}

/**
 * The identity platform's error body: {error, error_description "AADSTS<code>: ...\r\nTrace ID: ...", error_codes,
 * timestamp, trace_id, correlation_id, error_uri, suberror?}.
 */
function aadErrorBody({ error, codes, message, suberror, now, correlationId, loginUrl }) {
  const traceId = guid();
  const correlation = correlationId || guid();
  const stamp = aadTimestamp(now);
  const body = {
    error,
    error_description:
      `AADSTS${codes[codes.length - 1]}: ${message}\r\nTrace ID: ${traceId}\r\n` +
      `Correlation ID: ${correlation}\r\nTimestamp: ${stamp}`,
    error_codes: codes,
    timestamp: stamp,
    trace_id: traceId,
    correlation_id: correlation,
    error_uri: `${loginUrl}/error?code=${codes[codes.length - 1]}`,
  };
  if (suberror) body.suberror = suberror;
  return body;
}

/** Graph's error body: {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}. */
function graphErrorBody(code, message, ids, now) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date(now).toISOString().slice(0, 19),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}

function base64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A JWT-shaped string (header.payload.signature); the signature is random bytes, nobody verifies it. */
function jwt(payload, kid = 'sim-key-1') {
  const header = { typ: 'JWT', alg: 'RS256', kid };
  return [
    base64url(JSON.stringify(header)),
    base64url(JSON.stringify(payload)),
    base64url(crypto.randomBytes(64)),
  ].join('.');
}

function decodeJwtPayload(token) {
  const part = String(token).split('.')[1];
  return JSON.parse(Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
}

module.exports = {
  guid,
  readBody,
  firstValues,
  sendJson,
  sendHtml,
  page,
  escapeHtml,
  aadErrorBody,
  graphErrorBody,
  base64url,
  jwt,
  decodeJwtPayload,
};
