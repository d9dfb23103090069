/**
 * Requests through an undici dispatcher (the proxy paths): undici's dispatcher API
 * rather than its fetch, whose Request and Response objects, web streams and header
 * lists cost CPU on every request.
 */
import type { Dispatcher } from "undici";
import { BodyQueue } from "./body-queue.js";
import { QueuedResponse, type HeaderLookup } from "./http-response.js";

type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * One request (no redirects followed, no content decoding): resolves when the
 * headers have arrived; `signal` aborts it at any point.
 */
export function dispatchRequest(
  dispatcher: Dispatcher,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<QueuedResponse> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let queue: BodyQueue | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = () => controller?.abort(signal.reason);
    const settle = () => signal.removeEventListener("abort", onAbort);
    signal.addEventListener("abort", onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (signal.aborted) started.abort(signal.reason);
      },
      onResponseStart(started, statusCode, responseHeaders) {
        queue = new BodyQueue(() => started.abort(new Error("The reader stopped reading")));
        resolve(new QueuedResponse(statusCode, headerLookup(responseHeaders), url, queue));
      },
      onResponseData(started, chunk) {
        if (!queue) return;
        queue.push(chunk);
        if (queue.wantsPause && !started.paused) {
          started.pause();
          queue.onDrain(() => started.resume());
        }
      },
      onResponseEnd() {
        settle();
        queue?.end();
      },
      onResponseError(_controller, error) {
        settle();
        if (queue) queue.fail(error);
        else reject(error);
      },
    };
    dispatcher.dispatch({ origin: target.origin, path: target.pathname + target.search, method, headers, body }, handler);
  });
}

function headerLookup(headers: ResponseHeaders): HeaderLookup {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}
