import { Problem } from '../problem';

/**
 * Request framing the Worker refuses (RFC 9112 section 6). Where workerd faces clients itself
 * (`wrangler dev`, a self-hosted workerd) its HTTP/1.1 parser accepts a request carrying both
 * Content-Length and Transfer-Encoding and answers a request smuggled after it on the same
 * connection; behind a front end that framed the body by Content-Length, the two disagree about
 * where a request ends. The Worker sees only what the parser made of it, so it refuses what is
 * still visible: both fields together, a transfer coding other than plain `chunked`, and a
 * Content-Length that is not one decimal number. It cannot close the connection (workerd drops a
 * Worker's `Connection: close`), nor see a space before the colon, an obs-fold or which of several
 * framings the parser chose: edge/README.md says which deployments need a strict proxy in front.
 * On Cloudflare its front end parses first.
 */
export function framingProblem(headers: Headers): Problem | null {
  const length = headers.get('content-length');
  const coding = headers.get('transfer-encoding');
  let detail: string | null = null;
  if (length !== null && coding !== null) {
    detail = 'The request has both Content-Length and Transfer-Encoding; send one of them.';
  } else if (coding !== null && coding.trim().toLowerCase() !== 'chunked') {
    detail = 'The only transfer coding accepted in a request is chunked.';
  } else if (length !== null && !/^\d{1,15}$/.test(length.trim())) {
    detail = 'Content-Length must be one decimal number.';
  }
  if (detail === null) return null;
  return new Problem({
    status: 400,
    kind: 'malformed-request',
    title: 'Malformed request',
    detail,
  });
}
