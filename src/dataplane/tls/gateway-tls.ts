/**
 * The certificates of one HTTPS Gateway port: a CertificateStore kept in step with that port's TLS table
 * (Snapshot.gatewayPorts), the same contexts, protocol options and session-ticket key as the Ingress TLS
 * listener. Only the choice by SNI differs: a Gateway listener's `*.example.com` covers any number of
 * extra labels (the spec), so the longest wildcard suffix of the name is looked for, not just the one
 * after the first label.
 */
import type { Logger } from '../../log.ts';
import type { SnapshotHolder } from '../../snapshot/holder.ts';
import type { Snapshot, TlsTable } from '../../snapshot/types.ts';
import type { ListenerTls } from '../http-listener.ts';
import { CertificateStore } from './certificate-store.ts';
import type { TicketKeys } from './listener-tls.ts';

export interface GatewayTls extends ListenerTls {
  /** Stops following snapshots and ticket keys; the server it was attached to is let go. */
  close(): void;
}

const NO_TLS: TlsTable = { certificates: new Map(), hosts: new Map(), wildcards: new Map(), defaultKey: '', uses: [] };

export function createGatewayTls(port: number, holder: SnapshotHolder, ticketKeys: TicketKeys, log: Logger): GatewayTls {
  const store = new CertificateStore({
    ticketKeys: ticketKeys.current(),
    onError: (secret, err) => log.warn({ port, secret, err: err.message }, 'certificate refused by OpenSSL; its hosts get the default certificate'),
  });
  const tableOf = (s: Snapshot): TlsTable => s.gatewayPorts?.get(port)?.tls ?? NO_TLS;
  let table = tableOf(holder.current());
  store.update(table);
  let closed = false;
  const stopFollowing = holder.onSwap((next) => {
    const nextTable = tableOf(next);
    if (nextTable === table) return;
    table = nextTable;
    store.update(table);
  });
  ticketKeys.onChange((keys) => {
    if (!closed) store.setTicketKeys(keys);
  });
  // The name the store's one-label lookup resolves to the same entry: the exact host, else `*.` + the
  // longest suffix that is a listener's wildcard, else the name itself (the default).
  const canonical = (servername: string): string => {
    let name = servername.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (table.hosts.has(name)) return name;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const suffix = name.slice(dot + 1);
      if (table.wildcards.has(suffix)) return `*.${suffix}`;
    }
    return name;
  };
  let detach: (() => void) | undefined;
  return {
    serverOptions: () => ({ ...store.serverOptions(), SNICallback: (servername, cb) => store.sniCallback(canonical(servername), cb) }),
    attach(server) {
      detach = store.attach(server);
    },
    close() {
      closed = true;
      stopFollowing();
      detach?.();
    },
  };
}
