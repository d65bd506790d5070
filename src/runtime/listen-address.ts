/**
 * Bind addresses as text and the start-up error for a bind that failed: shared by the control plane
 * (admin) and the data plane (listeners) in a module of its own, so the control plane does not load the
 * data plane's listeners to format an address (a `--workers N` primary never runs them).
 */
import type { AddressInfo } from 'node:net';
import { ErrorCode, SwyError } from '../errors.ts';
import type { HostPort } from '../flags.ts';

/** SWY_ERR_LISTEN_FAILED for a `role` listener that could not bind `at`, naming the errno code (`unknown` without one). */
export function listenError(role: string, at: HostPort, err: unknown): SwyError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  return new SwyError(ErrorCode.LISTEN_FAILED, `cannot listen for ${role} on ${formatHostPort(at)}: ${code}`, { cause: err });
}

/** `host:port`, with an IPv6 host in brackets. */
export function formatHostPort(at: HostPort): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

/** A bound socket's address as formatHostPort() writes it. */
export function formatAddress(a: AddressInfo): string {
  return formatHostPort({ host: a.address, port: a.port });
}
