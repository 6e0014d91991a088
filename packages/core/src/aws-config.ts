import { ConfigurationError } from './errors';

/** Static credentials. Default: the SDK's own provider chain (environment, profile, role). */
export interface AwsCredentials {
  /** The access key id. */
  readonly accessKeyId: string;
  /** The secret access key. */
  readonly secretAccessKey: string;
  /** The session token of temporary credentials. Default: none. */
  readonly sessionToken?: string;
}

/** Where and as whom an AWS client talks. Every field falls back to the standard environment. */
export interface AwsClientOptions {
  /** The region. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the SDK's profile chain. */
  readonly region?: string;
  /**
   * The endpoint URL. Default: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_KINESIS`), then
   * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`; otherwise AWS's own.
   */
  readonly endpoint?: string;
  /** Static credentials. Default: the SDK's credential provider chain. */
  readonly credentials?: AwsCredentials;
  /** Attempts per request for the SDK's own retry. Default: the SDK's (3). */
  readonly maxAttempts?: number;
}

/** AWS services Tidemark talks to, named as in `AWS_ENDPOINT_URL_<SERVICE>`. */
export type AwsService = 'dynamodb' | 'dynamodb_streams' | 'kinesis';

/** A client config with every field resolved that could be; pass it to any SDK v3 client. */
export interface ResolvedAwsClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: AwsCredentials;
  maxAttempts?: number;
}

/**
 * Resolves region, endpoint and credentials from options, then from the standard environment
 * variables. Never hard-codes an endpoint. Throws {@link ConfigurationError} for a malformed
 * endpoint URL.
 *
 * @example
 * ```ts
 * import { KinesisClient } from '@aws-sdk/client-kinesis';
 * import { resolveAwsClientConfig } from '@tidemark/core/internal';
 *
 * const kinesis = new KinesisClient(resolveAwsClientConfig({}, 'kinesis'));
 * ```
 */
export function resolveAwsClientConfig(
  options: AwsClientOptions = {},
  service?: AwsService,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedAwsClientConfig {
  const config: ResolvedAwsClientConfig = {};
  const region = options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined) config.region = region;

  const ignoreEnvEndpoints = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true';
  const fromEnv = ignoreEnvEndpoints
    ? undefined
    : ((service ? nonEmpty(env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`]) : undefined) ??
      nonEmpty(env.AWS_ENDPOINT_URL));
  const endpoint = options.endpoint ?? fromEnv;
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`protocol ${url.protocol}`);
    } catch (cause) {
      throw new ConfigurationError(
        `Invalid AWS endpoint URL ${JSON.stringify(endpoint)}: use http(s)://host:port`,
        {
          ...(options.endpoint === undefined ? {} : { option: 'endpoint' }),
          received: JSON.stringify(endpoint),
          context: { endpoint, service },
          cause,
        },
      );
    }
    config.endpoint = endpoint;
  }
  if (options.credentials !== undefined) {
    if (!options.credentials.accessKeyId || !options.credentials.secretAccessKey) {
      throw new ConfigurationError('AWS credentials need both accessKeyId and secretAccessKey', {
        option: 'credentials',
        context: { service },
      });
    }
    config.credentials = options.credentials;
  }
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  return config;
}

/** Something with the AWS SDK v3 client shape. */
export interface SdkClientLike {
  // biome-ignore lint/suspicious/noExplicitAny: matches every SDK client's send signature
  send(command: any, options?: any): Promise<unknown>;
}

/**
 * Options that take either a ready SDK client or the config to build one: this returns the client
 * as is, or builds one with {@link resolveAwsClientConfig}. Clients are recognised by shape, so a
 * client from another copy of the SDK works too.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { resolveClient } from '@tidemark/core/internal';
 *
 * const dynamodb = resolveClient(options.dynamodb, (config) => new DynamoDBClient(config), 'dynamodb');
 * ```
 */
export function resolveClient<TClient extends SdkClientLike>(
  clientOrConfig: TClient | AwsClientOptions | undefined,
  create: (config: ResolvedAwsClientConfig) => TClient,
  service?: AwsService,
): TClient {
  if (isSdkClient(clientOrConfig)) return clientOrConfig as TClient;
  return create(resolveAwsClientConfig(clientOrConfig ?? {}, service));
}

/**
 * Tells whether a value looks like an AWS SDK v3 client.
 *
 * @example
 * ```ts
 * import { isSdkClient } from '@tidemark/core/internal';
 * isSdkClient(new KinesisClient({})); // true
 * ```
 */
export function isSdkClient(value: unknown): value is SdkClientLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { send?: unknown }).send === 'function' &&
    typeof (value as { config?: unknown }).config === 'object'
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
