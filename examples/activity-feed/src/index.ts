export type { ActivityFeedOptions, FeedEntry } from './activity-feed';
export {
  ACTIVITY_FEED_LISTENER,
  createActivityFeedListener,
  feedTableDescription,
  readFeed,
} from './activity-feed';
export { MissingSettingError } from './errors';
export type { FeedEvents } from './feed-events';
export { feedEvents } from './feed-events';
