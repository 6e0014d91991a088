import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BodyEncodingError } from '../errors';
import { errorResponse } from './responses';
import type { HttpHandler, HttpRequest, HttpResponse } from './types';

/** Strict UTF-8: invalid bytes are refused, never replaced with U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns the route code into an API Gateway HTTP API (payload format 2.0) Lambda handler.
 *
 * @example
 * ```ts
 * export const handler = apiGatewayHandler(createRoutes({ tasks, reader }));
 * ```
 */
export function apiGatewayHandler(
  handler: HttpHandler,
): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event) => {
    let request: HttpRequest;
    try {
      request = requestFromApiGateway(event);
    } catch (error) {
      if (!(error instanceof BodyEncodingError)) throw error;
      const { body: _unread, ...withoutBody } = event;
      return toResult(errorResponse(error, requestFromApiGateway(withoutBody), console));
    }
    return toResult(await handler(request));
  };
}

function toResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    ...(response.body === undefined ? {} : { body: response.body }),
    isBase64Encoded: false,
  };
}

/**
 * Reads an API Gateway HTTP API (payload 2.0) event as a route request. Throws
 * {@link BodyEncodingError} for a base64 body whose bytes are not UTF-8.
 *
 * @example
 * ```ts
 * const request = requestFromApiGateway(event);
 * ```
 */
export function requestFromApiGateway(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  let body = event.body;
  if (body !== undefined && event.isBase64Encoded) {
    try {
      body = UTF8.decode(Buffer.from(body, 'base64'));
    } catch (error) {
      throw new BodyEncodingError(error);
    }
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}
