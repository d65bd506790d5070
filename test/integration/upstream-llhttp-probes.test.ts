/**
 * Hardening probes again, with `--upstream-client llhttp`: slow uploads and bounded queues, request-head
 * smuggling shapes and client identity, checked at the pod (issue #19). See upstream-llhttp.test.ts.
 */
import { useSwitchyardArgs } from '../helpers/switchyard.ts';

useSwitchyardArgs(['--upstream-client', 'llhttp']);

await import('../security/slow-upload.test.ts');
await import('../security/request-head.test.ts');
await import('../security/client-identity.test.ts');
