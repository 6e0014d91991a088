/**
 * The largest request body the API reads, in bytes (64 KiB: a task's fields take at most a few
 * KiB). The Node server stops reading there; the route code checks it whatever the transport.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request as the route code sees it, whatever carried it (Node `http` or API Gateway). */
export interface HttpRequest {
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The path without query string, e.g. `/tasks/01J…`. */
  readonly path: string;
  /** Headers with lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body as text; `undefined` when there is none. */
  readonly body?: string;
}

/** A response as the route code produces it. */
export interface HttpResponse {
  /** The status code. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body (JSON text); `undefined` for none. */
  readonly body?: string;
}

/** The route code: one function from request to response. It never throws. */
export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;
