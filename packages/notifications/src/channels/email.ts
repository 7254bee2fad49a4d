import type { Transporter } from 'nodemailer';
import type { InventoryApi } from '@shop/inventory-contract';
import type { Logger } from '@shop/platform';
import { renderEmail } from '../messages.ts';
import type { StoredNotification } from '../repository.ts';
import type { OutboundChannel } from './channel.ts';

export interface EmailSettings {
  /** e.g. `smtp://user:pass@mail.example.com:587`; unset → email is not available. */
  smtpUrl?: string;
  /** The sender address, e.g. `Shop <orders@shop.example>`. */
  from: string;
}

/**
 * Email over SMTP (nodemailer). Each message gets a Message-ID made from the notification id:
 * if a crash makes us send it twice, the copies are recognisably the same message.
 */
export class EmailChannel implements OutboundChannel {
  readonly #transport: Promise<Transporter>;
  readonly #from: string;
  readonly #messageIdDomain: string;
  readonly #inventory: InventoryApi;
  readonly #logger: Logger;

  constructor(settings: Required<EmailSettings>, deps: { inventory: InventoryApi; logger: Logger }) {
    // Bounded waits: a dead or stalled server must fail the try, not hold the sender forever.
    // nodemailer is loaded here, not at the top: a process without SMTP_URL never loads it.
    this.#transport = import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({ url: settings.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }),
    );
    this.#from = settings.from;
    this.#messageIdDomain = /@([^>\s]+)>?\s*$/.exec(settings.from)?.[1] ?? 'notifications.shop.invalid';
    this.#inventory = deps.inventory;
    this.#logger = deps.logger;
  }

  async send(notification: StoredNotification): Promise<void> {
    const content = renderEmail({
      kind: notification.kind,
      order_id: notification.order_id,
      facts: notification.content,
      productNames: await this.#productNames(notification),
    });
    await (await this.#transport).sendMail({
      from: this.#from,
      to: notification.recipient as string,
      messageId: `<${notification.id}@${this.#messageIdDomain}>`,
      ...content,
    });
  }

  async close(): Promise<void> {
    (await this.#transport).close();
  }

  /** Names from the catalog; if inventory can't answer, the email still goes, naming product ids. */
  async #productNames(notification: StoredNotification): Promise<Map<string, string>> {
    try {
      const products = await this.#inventory.getProducts(notification.content.items.map((item) => item.product_id));
      return new Map(products.map((product) => [product.id.toLowerCase(), product.name]));
    } catch (error) {
      this.#logger.warn({ err: error, notification_id: notification.id }, 'product names unavailable; the email names product ids');
      return new Map();
    }
  }
}
