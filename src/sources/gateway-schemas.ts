/**
 * Schemas of the Gateway API kinds Switchyard reads (gateway.networking.k8s.io v1, ReferenceGrant v1beta1),
 * limited to the fields it uses. The limits and patterns are the CRDs' own (OpenAPI and CEL rules of
 * the standard channel), so a manifest the API server would refuse is refused here in its words.
 */
import { z } from 'zod';
import { apiString, dns1123LabelErrors, dns1123SubdomainErrors, metadataSchema, portNumber, stringMap } from './k8s-schemas.ts';

const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONTROLLER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;
const PROTOCOL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export function patternErrors(pattern: RegExp, max: number): (value: string) => string[] {
  return (value) => {
    const errs = value.length > max ? [`must be no more than ${max} characters`] : [];
    if (!pattern.test(value)) errs.push(`must match the pattern ${pattern.source}`);
    return errs;
  };
}

/** A Hostname: an RFC 1123 subdomain, optionally `*.` and one; no IP address, no port. */
export const hostname = apiString(patternErrors(HOSTNAME, 253));
const sectionName = apiString(dns1123SubdomainErrors);
const objectName = apiString(dns1123SubdomainErrors);
const namespace = apiString(dns1123LabelErrors);
const group = apiString(patternErrors(GROUP, 253));
const kind = apiString(patternErrors(KIND, 63));

export const gatewayClassSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({ controllerName: apiString(patternErrors(CONTROLLER_NAME, 253)) }),
});

const labelSelector = z.object({
  matchLabels: stringMap.optional().nullable(),
  matchExpressions: z
    .array(z.object({ key: z.string().min(1), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional().nullable() }))
    .optional()
    .nullable(),
});

const listener = z.object({
  name: sectionName,
  hostname: hostname.optional().nullable(),
  port: portNumber,
  protocol: apiString(patternErrors(PROTOCOL, 255)),
  allowedRoutes: z
    .object({
      namespaces: z
        .object({ from: z.enum(['All', 'Same', 'Selector']).optional().nullable(), selector: labelSelector.optional().nullable() })
        .superRefine((n, ctx) => {
          if (n.from === 'Selector' && n.selector == null) ctx.addIssue({ code: 'custom', path: ['selector'], message: 'Required value: a selector is required when from is Selector' });
        })
        .optional()
        .nullable(),
      kinds: z.array(z.object({ group: group.optional().nullable(), kind })).max(8).optional().nullable(),
    })
    .optional()
    .nullable(),
  tls: z
    .object({
      mode: z.enum(['Terminate', 'Passthrough']).optional().nullable(),
      certificateRefs: z
        .array(z.object({ group: group.optional().nullable(), kind: kind.optional().nullable(), name: objectName, namespace: namespace.optional().nullable() }))
        .max(64)
        .optional()
        .nullable(),
    })
    .optional()
    .nullable(),
});

export const gatewaySchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    gatewayClassName: objectName,
    listeners: z
      .array(listener)
      .min(1)
      .max(64)
      .superRefine((ls, ctx) => {
        const seen = new Set<string>();
        ls.forEach((l, i) => {
          if (seen.has(l.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `Duplicate value: ${JSON.stringify(l.name)}: listener names must be unique within the Gateway` });
          seen.add(l.name);
        });
      }),
  }),
});

export const parentRef = z.object({
  group: group.optional().nullable(),
  kind: kind.optional().nullable(),
  namespace: namespace.optional().nullable(),
  name: objectName,
  sectionName: sectionName.optional().nullable(),
  port: portNumber.optional().nullable(),
});

export const valueMatch = (nameErrors: (value: string) => string[]) =>
  z.object({
    type: z.enum(['Exact', 'RegularExpression']).optional().nullable(),
    name: apiString(nameErrors),
    value: z.string().min(1).max(4096),
  });

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

const routeMatch = z.object({
  path: z
    .object({ type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).optional().nullable(), value: z.string().max(1024).optional().nullable() })
    .superRefine((p, ctx) => {
      const type = p.type ?? 'PathPrefix';
      const value = p.value ?? '/';
      if (type === 'RegularExpression') return;
      // The CRD's CEL rules, in their own words.
      if (!value.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['value'], message: `Invalid value: ${JSON.stringify(value)}: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']` });
      else if (value.includes('//')) ctx.addIssue({ code: 'custom', path: ['value'], message: `Invalid value: ${JSON.stringify(value)}: must not contain '//' when type one of ['Exact', 'PathPrefix']` });
      else if (/\/\.\.?(\/|$)/.test(value)) ctx.addIssue({ code: 'custom', path: ['value'], message: `Invalid value: ${JSON.stringify(value)}: must not contain '/./' or '/../' or end with '/.' or '/..' when type one of ['Exact', 'PathPrefix']` });
      else if (/[?#]/.test(value)) ctx.addIssue({ code: 'custom', path: ['value'], message: `Invalid value: ${JSON.stringify(value)}: must not contain '?' or '#' when type one of ['Exact', 'PathPrefix']` });
    })
    .optional()
    .nullable(),
  headers: z.array(valueMatch(patternErrors(HEADER_NAME, 256))).max(16).optional().nullable(),
  queryParams: z.array(valueMatch(patternErrors(HEADER_NAME, 256))).max(16).optional().nullable(),
  method: z.enum(METHODS).optional().nullable(),
});

export const backendRef = z
  .object({
    group: group.optional().nullable(),
    kind: kind.optional().nullable(),
    name: objectName,
    namespace: namespace.optional().nullable(),
    port: portNumber.optional().nullable(),
    weight: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .optional()
      .nullable(),
  })
  .superRefine((b, ctx) => {
    const isService = (b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service';
    if (isService && b.port == null) ctx.addIssue({ code: 'custom', path: ['port'], message: 'Required value: Must have port for Service reference' });
  });

const headerValue = z.object({ name: apiString(patternErrors(HEADER_NAME, 256)), value: z.string().max(4096) });
export const headerModifier = z.object({
  set: z.array(headerValue).max(16).optional().nullable(),
  add: z.array(headerValue).max(16).optional().nullable(),
  remove: z.array(apiString(patternErrors(HEADER_NAME, 256))).max(16).optional().nullable(),
});
const pathModifier = z
  .object({ type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']), replaceFullPath: z.string().max(1024).optional().nullable(), replacePrefixMatch: z.string().max(1024).optional().nullable() })
  .superRefine((p, ctx) => {
    // The CRD's CEL rules: the field of the type is required, the other forbidden.
    const field = p.type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
    const other = p.type === 'ReplaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath';
    if (p[field] == null) ctx.addIssue({ code: 'custom', path: [field], message: `Required value: ${field} must be specified when type is set to '${p.type}'` });
    else if (!p[field].startsWith('/')) ctx.addIssue({ code: 'custom', path: [field], message: `Invalid value: ${JSON.stringify(p[field])}: must be an absolute path` });
    if (p[other] != null) ctx.addIssue({ code: 'custom', path: [other], message: `Forbidden: ${other} must not be specified when type is set to '${p.type}'` });
  });

/** A GEP-2257 Duration: one to four components of up to five digits and a unit (the CRD's pattern). */
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const DURATION_PART = /([0-9]+)(ms|h|m|s)/g;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds of a Duration that matched DURATION (components summed, as Go's time.ParseDuration does). */
export function gatewayDurationMs(value: string): number {
  let ms = 0;
  for (const m of value.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

const duration = apiString((v) => (DURATION.test(v) ? [] : [`must match the pattern ${DURATION.source}`]));

const routeTimeouts = z
  .object({ request: duration.optional().nullable(), backendRequest: duration.optional().nullable() })
  .superRefine((t, ctx) => {
    // The CRD's CEL rule, in its words ("0s" disables the request timeout, so anything fits inside it).
    if (t.request == null || t.backendRequest == null || !DURATION.test(t.request) || !DURATION.test(t.backendRequest)) return;
    const request = gatewayDurationMs(t.request);
    if (request !== 0 && gatewayDurationMs(t.backendRequest) > request) ctx.addIssue({ code: 'custom', message: 'Invalid value: "object": backendRequest timeout cannot be longer than request timeout' });
  });

/** A mirror's BackendObjectReference: a backendRef without weight. */
const mirrorBackendRef = z
  .object({ group: group.optional().nullable(), kind: kind.optional().nullable(), name: objectName, namespace: namespace.optional().nullable(), port: portNumber.optional().nullable() })
  .superRefine((b, ctx) => {
    if ((b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service' && b.port == null) ctx.addIssue({ code: 'custom', path: ['port'], message: 'Required value: Must have port for Service reference' });
  });
export const requestMirror = z
  .object({
    backendRef: mirrorBackendRef,
    percent: z.number().int().min(0).max(100).optional().nullable(),
    fraction: z
      .object({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).optional().nullable() })
      .superRefine((f, ctx) => {
        if (f.numerator > (f.denominator ?? 100)) ctx.addIssue({ code: 'custom', message: 'Invalid value: "object": numerator must be less than or equal to denominator' });
      })
      .optional()
      .nullable(),
  })
  .superRefine((m, ctx) => {
    if (m.percent != null && m.fraction != null) ctx.addIssue({ code: 'custom', message: 'Invalid value: "object": Only one of percent or fraction may be specified in HTTPRequestMirrorFilter' });
  });

const FILTER_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'CORS', 'ExternalAuth', 'ExtensionRef'] as const;

const filter = z
  .object({
    type: z.enum(FILTER_TYPES),
    requestHeaderModifier: headerModifier.optional().nullable(),
    responseHeaderModifier: headerModifier.optional().nullable(),
    requestRedirect: z
      .object({
        scheme: z.enum(['http', 'https']).optional().nullable(),
        hostname: hostname.optional().nullable(),
        path: pathModifier.optional().nullable(),
        port: portNumber.optional().nullable(),
        statusCode: z.literal([301, 302, 303, 307, 308]).optional().nullable(),
      })
      .optional()
      .nullable(),
    urlRewrite: z.object({ hostname: hostname.optional().nullable(), path: pathModifier.optional().nullable() }).optional().nullable(),
    requestMirror: requestMirror.optional().nullable(),
  })
  .loose()
  .superRefine((f, ctx) => {
    // The CRD's CEL rule: the field named by the type must be set (for the types Switchyard reads).
    const field = { RequestHeaderModifier: 'requestHeaderModifier', ResponseHeaderModifier: 'responseHeaderModifier', RequestRedirect: 'requestRedirect', URLRewrite: 'urlRewrite', RequestMirror: 'requestMirror' }[f.type as string] as keyof typeof f | undefined;
    if (field !== undefined && f[field] == null) ctx.addIssue({ code: 'custom', path: [field], message: `Required value: filter.${field} must be specified for ${f.type} filter.type` });
  });

/** HTTPRouteRule.sessionPersistence (GEP-1619), with the CRD's limits and CEL rule. */
const sessionPersistence = z
  .object({
    sessionName: z.string().max(128).optional().nullable(),
    absoluteTimeout: duration.optional().nullable(),
    idleTimeout: duration.optional().nullable(),
    type: z.enum(['Cookie', 'Header']).optional().nullable(),
    cookieConfig: z.object({ lifetimeType: z.enum(['Permanent', 'Session']).optional().nullable() }).optional().nullable(),
  })
  .superRefine((p, ctx) => {
    if (p.cookieConfig?.lifetimeType === 'Permanent' && p.absoluteTimeout == null) {
      ctx.addIssue({ code: 'custom', message: 'Invalid value: "object": AbsoluteTimeout must be specified when cookie lifetimeType is Permanent' });
    }
  });

const routeRule = z
  .object({
    matches: z.array(routeMatch).max(64).optional().nullable(),
    backendRefs: z.array(backendRef).max(16).optional().nullable(),
    filters: z.array(filter).max(16).optional().nullable(),
    timeouts: routeTimeouts.optional().nullable(),
    sessionPersistence: sessionPersistence.optional().nullable(),
  })
  .superRefine((r, ctx) => {
    const types = (r.filters ?? []).map((f) => f.type);
    if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
      ctx.addIssue({ code: 'custom', path: ['filters'], message: 'Invalid value: "": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both' });
    }
    for (const f of r.filters ?? []) {
      const name = f.type === 'RequestRedirect' ? 'RequestRedirect' : f.type === 'URLRewrite' ? 'URLRewrite' : undefined;
      const path = f.type === 'RequestRedirect' ? f.requestRedirect?.path : f.type === 'URLRewrite' ? f.urlRewrite?.path : undefined;
      const single = r.matches?.length === 1 && (r.matches[0]!.path?.type ?? 'PathPrefix') === 'PathPrefix';
      if (path?.type === 'ReplacePrefixMatch' && !single) {
        ctx.addIssue({ code: 'custom', path: ['filters'], message: `Invalid value: "": When using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified` });
      }
    }
    for (const once of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) {
      if (types.filter((t) => t === once).length > 1) ctx.addIssue({ code: 'custom', path: ['filters'], message: `Invalid value: "": ${once} filter cannot be repeated` });
    }
  });

export const httpRouteSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    parentRefs: z.array(parentRef).max(32).optional().nullable(),
    hostnames: z.array(hostname).max(16).optional().nullable(),
    rules: z.array(routeRule).max(16).optional().nullable(),
  }),
});

export const referenceGrantSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({
    from: z.array(z.object({ group, kind, namespace })).min(1).max(16),
    to: z.array(z.object({ group, kind, name: objectName.optional().nullable() })).min(1).max(16),
  }),
});

export const namespaceSchema = z.object({
  metadata: z.object({ name: apiString(dns1123LabelErrors), labels: stringMap.optional().nullable(), creationTimestamp: z.union([z.string(), z.date()]).optional().nullable() }),
});

/** apiVersion each Gateway API kind must carry (and Namespace, read for its labels). */
export const GATEWAY_KIND_API_VERSIONS = {
  GatewayClass: 'gateway.networking.k8s.io/v1',
  Gateway: 'gateway.networking.k8s.io/v1',
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  GRPCRoute: 'gateway.networking.k8s.io/v1',
  ReferenceGrant: 'gateway.networking.k8s.io/v1beta1',
  Namespace: 'v1',
} as const;

export type GatewayKind = keyof typeof GATEWAY_KIND_API_VERSIONS;

/**
 * Further apiVersions read as the same schema: ReferenceGrant went to v1 in Gateway API v1.5 unchanged
 * (the conformance suite's manifests now say v1), while clusters with older CRDs serve only v1beta1 — so
 * the kube source keeps watching v1beta1, which both serve.
 */
export const GATEWAY_KIND_MORE_API_VERSIONS: Readonly<Partial<Record<GatewayKind, readonly string[]>>> = {
  ReferenceGrant: ['gateway.networking.k8s.io/v1'],
};
