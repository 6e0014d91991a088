/**
 * The region part of ARNs.
 *
 * @internal
 */

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/;

/** The region of a stream ARN when it is an AWS region, else undefined. */
export function arnRegion(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region && AWS_REGION.test(region) ? region : undefined;
}

/** The ARN with its region part replaced (an ARN without one is returned as it is). */
export function withArnRegion(arn: string, region: string): string {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return arn;
  parts[3] = region;
  return parts.join(':');
}
