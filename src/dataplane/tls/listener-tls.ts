/**
 * The TLS listener's certificates in one data-plane process: a CertificateStore kept in step with the
 * snapshot (every swap, so Secret and Ingress edits reach new handshakes without a restart; open
 * connections keep the context they started with) and with the shared session-ticket key.
 */
import type { Logger } from '../../log.ts';
import type { SnapshotHolder } from '../../snapshot/holder.ts';
import type { ListenerTls } from '../http-listener.ts';
import { CertificateStore } from './certificate-store.ts';

/** The session-ticket key shared by every worker, as the runtime keeps it (runtime/ticket-keys.ts). */
export interface TicketKeys {
  current(): Buffer;
  onChange(fn: (keys: Buffer) => void): void;
}

export function createListenerTls(holder: SnapshotHolder, ticketKeys: TicketKeys, log: Logger): ListenerTls {
  const store = new CertificateStore({
    ticketKeys: ticketKeys.current(),
    onError: (secret, err) => log.warn({ secret, err: err.message }, 'certificate refused by OpenSSL; its hosts get the default certificate'),
  });
  store.update(holder.current().tls);
  holder.onSwap((next) => store.update(next.tls));
  ticketKeys.onChange((keys) => store.setTicketKeys(keys));
  return store;
}
