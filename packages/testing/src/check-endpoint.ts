/**
 * The `endpoint` mode's check that the given endpoint (an already running LocalStack, say) answers.
 */
import http from 'node:http';
import https from 'node:https';
import { EndpointUnavailableError } from './errors';

/** Checks that something answers HTTP at the endpoint; returns it without a trailing slash. */
export async function checkEndpoint(endpoint: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`protocol ${url.protocol}`);
  } catch (cause) {
    throw new EndpointUnavailableError(
      `${JSON.stringify(endpoint)} is not an http(s) URL`,
      { endpoint },
      { cause },
    );
  }
  const answered = await new Promise<boolean>((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'GET', timeout: 5000, rejectUnauthorized: false },
      (response) => {
        response.resume();
        resolve(true);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
    request.end();
  });
  if (!answered) {
    throw new EndpointUnavailableError(`nothing answers at ${endpoint}; is LocalStack running?`, {
      endpoint,
    });
  }
  return url.origin;
}
