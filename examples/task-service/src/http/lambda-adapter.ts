import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpHandler, HttpRequest } from './types';

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
    const response = await handler(requestFromApiGateway(event));
    return {
      statusCode: response.status,
      headers: { ...response.headers },
      ...(response.body === undefined ? {} : { body: response.body }),
      isBase64Encoded: false,
    };
  };
}

/**
 * Reads an API Gateway HTTP API (payload 2.0) event as a route request.
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
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}
