/**
 * The region and account of a stream ARN given to a factory.
 *
 * @internal
 */
import { EventSourceConfigurationError } from '../errors';

/** The region and account of a Kinesis or DynamoDB stream ARN; a bad ARN is a configuration error. */
export function parseArn(arn: string, service: 'kinesis' | 'dynamodb'): { region: string; account: string } {
  const match = new RegExp(`^arn:[^:]+:${service}:([^:]*):(\\d{12}):`).exec(arn);
  if (!match) {
    throw new EventSourceConfigurationError(`not a ${service} ARN: ${arn}`, { arn });
  }
  return { region: match[1]!, account: match[2]! };
}
