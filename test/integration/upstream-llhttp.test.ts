/**
 * The upstream suites again, with `--upstream-client llhttp` (issue #19: "the whole upstream test suite
 * and the hardening probes run against both" clients). Each suite file also runs on its own, with the
 * default client; here its tests are collected a second time in this file, where every Switchyard it
 * starts gets the flag (useSwitchyardArgs). Chosen: the suites whose requests reach a pod over plaintext
 * HTTP/1.1 and look at what the pod gets or answers, or at connection failures, timeouts, retries and
 * ejection; not the client-side-only suites, nor TLS, HTTP/2 or gRPC upstreams (undici or node:http2
 * serve those whatever the flag). The differential framing test and endpoint-pool.test.ts cover both
 * clients in their own files. upstream-llhttp-probes.test.ts and upstream-llhttp-reliability.test.ts run
 * the rest (three files of ~40 s, so that the two test workers share the time).
 */
import { useSwitchyardArgs } from '../helpers/switchyard.ts';

useSwitchyardArgs(['--upstream-client', 'llhttp']);

await import('./upstream-errors.test.ts');
await import('./upstream-protocols.test.ts');
await import('./streaming.test.ts');
await import('./headers.test.ts');
await import('../security/upstream-answers.test.ts');
await import('../security/path-normalization.test.ts');
await import('../security/fd-exhaustion.test.ts');
