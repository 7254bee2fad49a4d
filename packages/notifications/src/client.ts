import { NotificationsMethods, type NotificationsApi } from '@shop/notifications-contract';
import { remoteApi, type RemoteModule } from '@shop/platform';

/**
 * NotificationsApi over HTTP, for processes that do not host notifications: the same interface and the same
 * errors as the local module. What may be retried comes from the contract's method table.
 */
export function createNotificationsClient(remote: RemoteModule): NotificationsApi {
  return remoteApi<NotificationsApi>(remote, NotificationsMethods);
}
