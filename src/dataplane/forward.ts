/**
 * Forwards one request to one endpoint over its pooled keep-alive connections, streaming the
 * request body up and the response body down with backpressure both ways (memory stays flat
 * whatever the body size).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { Logger } from '../log.ts';
import { clientResponseHeaders } from './headers.ts';
import { classifyUpstreamError, sendFailure } from './status.ts';

/** True when the request carries a body: a non-zero Content-Length, or any Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

export interface ForwardContext {
  readonly log: Logger;
}

export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  pool: Pool,
  path: string,
  headers: string[],
  endpointKey: string,
  ctx: ForwardContext,
): void {
  const abort = new AbortController();
  // The client went away before the response finished: stop the upstream request too.
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClose);
  const body = hasBody(req) ? req : null;
  pool.request(
    { method: req.method as Dispatcher.HttpMethod, path, headers, body, signal: abort.signal },
    (err: Error | null, data?: Dispatcher.ResponseData) => {
      if (err || !data) {
        if (abort.signal.aborted) return;
        const code = classifyUpstreamError(err);
        ctx.log.debug({ err, endpoint: endpointKey, code }, 'upstream request failed');
        // Whatever of the request body undici did not consume is discarded, so the client connection can be reused.
        if (body && !req.readableEnded) req.resume();
        sendFailure(res, code);
        return;
      }
      res.writeHead(data.statusCode, clientResponseHeaders(data.headers));
      pipeline(data.body, res, (pipeErr) => {
        if (pipeErr && !abort.signal.aborted) {
          ctx.log.debug({ err: pipeErr, endpoint: endpointKey }, 'upstream response broke off');
        }
      });
    },
  );
}
