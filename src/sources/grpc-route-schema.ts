/**
 * The schema of GRPCRoute (gateway.networking.k8s.io/v1), limited to the fields Switchyard reads, with the
 * CRD's limits and CEL rules in the API server's words: at most 16 rules of at most 8 matches, 16 header
 * matches, 16 filters and 16 backendRefs; a method match names a service or a method (or both), and an
 * Exact one only valid characters; a filter's field is required for its type and forbidden for the others;
 * header modifiers are not repeated. Parent references, hostnames, backendRefs and header modifiers are
 * HTTPRoute's own (gateway-schemas.ts).
 */
import { z } from 'zod';
import { apiString, metadataSchema } from './k8s-schemas.ts';
import { backendRef, headerModifier, HEADER_NAME, hostname, parentRef, patternErrors, requestMirror, valueMatch } from './gateway-schemas.ts';

/** The CRD's patterns for Exact matches (its `(?i)` is the `i` flag here). */
export const GRPC_SERVICE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
export const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

const methodMatch = z
  .object({
    type: z.enum(['Exact', 'RegularExpression']).optional().nullable(),
    service: z.string().max(1024).optional().nullable(),
    method: z.string().max(1024).optional().nullable(),
  })
  .superRefine((m, ctx) => {
    // The CEL rules at the object, as the API server reports them (the type defaults to Exact, so the first always applies).
    const cel = (message: string) => ctx.addIssue({ code: 'custom', message: `Invalid value: "object": ${message}` });
    if (m.service == null && m.method == null) cel("One or both of 'service' or 'method' must be specified");
    if ((m.type ?? 'Exact') !== 'Exact') return;
    if (m.service != null && !GRPC_SERVICE.test(m.service)) cel('service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)');
    if (m.method != null && !GRPC_METHOD.test(m.method)) cel('method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)');
  });

const routeMatch = z.object({
  method: methodMatch.optional().nullable(),
  headers: z.array(valueMatch(patternErrors(HEADER_NAME, 256))).max(16).optional().nullable(),
});

const FILTER_FIELDS = { RequestHeaderModifier: 'requestHeaderModifier', ResponseHeaderModifier: 'responseHeaderModifier', RequestMirror: 'requestMirror', ExtensionRef: 'extensionRef' } as const;

const filter = z
  .object({
    type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']),
    requestHeaderModifier: headerModifier.optional().nullable(),
    responseHeaderModifier: headerModifier.optional().nullable(),
    requestMirror: requestMirror.optional().nullable(),
    extensionRef: z.object({ group: z.string(), kind: z.string(), name: apiString(() => []) }).optional().nullable(),
  })
  .superRefine((f, ctx) => {
    for (const [type, field] of Object.entries(FILTER_FIELDS)) {
      const set = f[field] != null;
      if (type === f.type && !set) ctx.addIssue({ code: 'custom', message: `Invalid value: "object": filter.${field} must be specified for ${type} filter.type` });
      if (type !== f.type && set) ctx.addIssue({ code: 'custom', message: `Invalid value: "object": filter.${field} must be nil if the filter.type is not ${type}` });
    }
  });

const routeRule = z.object({
  matches: z.array(routeMatch).max(8).optional().nullable(),
  filters: z
    .array(filter)
    .max(16)
    .superRefine((fs, ctx) => {
      for (const once of ['RequestHeaderModifier', 'ResponseHeaderModifier']) {
        if (fs.filter((f) => f.type === once).length > 1) ctx.addIssue({ code: 'custom', message: `Invalid value: "array": ${once} filter cannot be repeated` });
      }
    })
    .optional()
    .nullable(),
  // A GRPCBackendRef's own `filters` are not read (as for HTTPRoute).
  backendRefs: z.array(backendRef).max(16).optional().nullable(),
});

export const grpcRouteSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    parentRefs: z.array(parentRef).max(32).optional().nullable(),
    hostnames: z.array(hostname).max(16).optional().nullable(),
    rules: z.array(routeRule).max(16).optional().nullable(),
  }),
});
