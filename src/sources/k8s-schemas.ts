/**
 * Schemas of the Kubernetes objects Switchyard reads, limited to the fields it uses (others are ignored).
 * This is the only module that knows raw Kubernetes shapes, together with normalize.ts.
 * Field rules follow the Kubernetes API reference (core/v1, discovery.k8s.io/v1, networking.k8s.io/v1).
 */
import { z } from 'zod';

// The API server's own name checks, worded as it words them (k8s.io/apimachinery/pkg/util/validation and
// api/validation): a manifest `kubectl apply` would refuse is refused here with the message kubectl prints.
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1035_LABEL = new RegExp(`^${DNS1035_LABEL_FMT}$`);

/** apimachinery's RegexError: `msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')`, its double space included. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

function maxLen(value: string, max: number): string[] {
  return value.length > max ? [`must be no more than ${max} characters`] : [];
}

/** IsDNS1123Label: namespaces, port names of Services and endpoints. */
export function dns1123LabelErrors(value: string): string[] {
  const errs = maxLen(value, 63);
  if (!DNS1123_LABEL.test(value)) {
    errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

/** IsDNS1123Subdomain: the names of most objects (Ingress, IngressClass, Secret, EndpointSlice, Endpoints). */
export function dns1123SubdomainErrors(value: string): string[] {
  const errs = maxLen(value, 253);
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errs;
}

const WILDCARD_DNS1123_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const WILDCARD_DNS1123_SUBDOMAIN = new RegExp(`^${WILDCARD_DNS1123_SUBDOMAIN_FMT}$`);

/**
 * An Ingress rule's host (ValidateIngressRule): an RFC 1123 subdomain, or `*.` and one when it has a `*`.
 * Unlike the API server, capitals are accepted (hosts are compared lower-case) and an IP address too:
 * files that loaded before keep loading.
 */
function ingressHostErrors(value: string): string[] {
  const host = value.toLowerCase();
  if (!host.includes('*')) return dns1123SubdomainErrors(host);
  const errs = maxLen(host, 253);
  if (!WILDCARD_DNS1123_SUBDOMAIN.test(host)) {
    errs.push(regexError("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character", WILDCARD_DNS1123_SUBDOMAIN_FMT, '*.example.com'));
  }
  return errs;
}

/** IsDNS1035Label: Service names (ValidateServiceName), wherever they appear. */
function dns1035LabelErrors(value: string): string[] {
  const errs = maxLen(value, 63);
  if (!DNS1035_LABEL.test(value)) {
    errs.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  }
  return errs;
}

/** IsValidPortName (IANA_SVC_NAME): a named targetPort, an Ingress backend's port.name. */
function portNameErrors(value: string): string[] {
  const errs = maxLen(value, 15);
  if (!/^[-a-z0-9]+$/.test(value)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(value)) errs.push('must contain at least one letter (a-z)');
  if (value.includes('--')) errs.push('must not contain consecutive hyphens');
  if (value.startsWith('-') || value.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** A string the API checks with `errorsOf`, each failure worded as field.Invalid words it. */
export function apiString(errorsOf: (value: string) => string[]) {
  return z.string().superRefine((value, ctx) => {
    for (const message of errorsOf(value)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(value)}: ${message}` });
  });
}

/** For the fields the API checks only when set: a Service's single unnamed port, a `tls:` entry without Secret. */
function unlessEmpty(errorsOf: (value: string) => string[]): (value: string) => string[] {
  return (value) => (value === '' ? [] : errorsOf(value));
}

/** metadata.name: required (as `name or generateName`; generated names do not exist in a manifest), then checked. */
function objectName(errorsOf: (value: string) => string[]) {
  const required = 'Required value: name or generateName is required';
  return z.string({ error: (issue) => (issue.input === undefined ? required : undefined) }).superRefine((value, ctx) => {
    if (value === '') ctx.addIssue({ code: 'custom', message: required });
    else for (const message of errorsOf(value)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${JSON.stringify(value)}: ${message}` });
  });
}

/** IsValidPortNum, worded as validation.InclusiveRangeError. */
export const portNumber = z.number().superRefine((value, ctx) => {
  if (!Number.isInteger(value)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${value}: must be an integer` });
  else if (value < 1 || value > 65535) ctx.addIssue({ code: 'custom', message: `Invalid value: ${value}: must be between 1 and 65535, inclusive` });
});
const protocol = z.enum(['TCP', 'UDP', 'SCTP']);
export const stringMap = z.record(z.string(), z.string());

/** ObjectMeta with the name rule of its kind: Services are DNS-1035 labels, most objects RFC 1123 subdomains. */
function metadataWith(nameErrors: (value: string) => string[]) {
  return z.object({
    name: objectName(nameErrors),
    namespace: apiString(dns1123LabelErrors).optional(),
    creationTimestamp: z.union([z.string(), z.date()]).optional().nullable(),
    generation: z.number().int().nonnegative().optional().nullable(),
    labels: stringMap.optional().nullable(),
    annotations: stringMap.optional().nullable(),
  });
}

export const metadataSchema = metadataWith(dns1123SubdomainErrors);
const serviceMetadata = metadataWith(dns1035LabelErrors);

export const serviceSchema = z.object({
  metadata: serviceMetadata,
  spec: z
    .object({
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
      clusterIP: z.string().optional().nullable(),
      clusterIPs: z.array(z.string()).optional().nullable(),
      externalName: z.string().optional().nullable(),
      ports: z
        .array(
          z.object({
            name: apiString(unlessEmpty(dns1123LabelErrors)).optional().nullable(),
            port: portNumber,
            targetPort: z.union([portNumber, apiString(portNameErrors)]).optional().nullable(),
            protocol: protocol.optional(),
            appProtocol: z.string().optional().nullable(),
            // Layer-4 fields are checked by service-l4.ts: a bad one skips the port for the service proxy
            // (a diagnostic) rather than rejecting the Service its HTTP routes use.
            nodePort: z.unknown().optional(),
          }),
        )
        .optional()
        .nullable(),
      externalIPs: z.unknown().optional(),
      sessionAffinity: z.unknown().optional(),
      sessionAffinityConfig: z.unknown().optional(),
      internalTrafficPolicy: z.unknown().optional(),
      externalTrafficPolicy: z.unknown().optional(),
    })
    .optional()
    .nullable(),
  status: z.unknown().optional(),
});

const endpointPort = z.object({
  name: apiString(unlessEmpty(dns1123LabelErrors)).optional().nullable(),
  port: portNumber,
  protocol: protocol.optional(),
  appProtocol: z.string().optional().nullable(),
});

const targetRef = z
  .object({ kind: z.string().optional(), namespace: z.string().optional(), name: z.string().optional() })
  .optional()
  .nullable();

export const endpointSliceSchema = z.object({
  metadata: metadataSchema,
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
  // The API server takes a slice without endpoints (and serves one with no pods as `endpoints: null`);
  // the Gateway API conformance manifests have such slices, filled later.
  endpoints: z.array(
    z.object({
      addresses: z.array(z.string().min(1)).min(1).max(100),
      conditions: z
        .object({
          ready: z.boolean().optional().nullable(),
          serving: z.boolean().optional().nullable(),
          terminating: z.boolean().optional().nullable(),
        })
        .optional()
        .nullable(),
      hostname: z.string().optional().nullable(),
      nodeName: z.string().optional().nullable(),
      targetRef,
    }),
  ).optional().nullable(),
  // In an EndpointSlice the port is optional ("all ports"); Switchyard needs a number to connect to.
  ports: z.array(endpointPort).optional().nullable(),
});

export const endpointAddressSchema = z.object({
  ip: z.string().min(1),
  hostname: z.string().optional().nullable(),
  nodeName: z.string().optional().nullable(),
  targetRef,
});

export const endpointsSchema = z.object({
  metadata: metadataSchema,
  subsets: z
    .array(
      z.object({
        addresses: z.array(endpointAddressSchema).optional().nullable(),
        notReadyAddresses: z.array(endpointAddressSchema).optional().nullable(),
        ports: z.array(endpointPort).optional().nullable(),
      }),
    )
    .optional()
    .nullable(),
});

const ingressBackend = z
  .object({
    service: z
      .object({
        name: apiString(dns1035LabelErrors),
        port: z
          .object({ number: portNumber.optional().nullable(), name: apiString(portNameErrors).optional().nullable() })
          .superRefine((p, ctx) => {
            // validateIngressBackend's own words.
            if (p.number != null && p.name != null) ctx.addIssue({ code: 'custom', message: 'Invalid value: "": cannot set both port name & port number' });
            else if (p.number == null && p.name == null) ctx.addIssue({ code: 'custom', message: 'Required value: port name or number is required' });
          }),
      })
      .optional()
      .nullable(),
    resource: z
      .object({ kind: z.string().min(1), name: z.string().min(1), apiGroup: z.string().optional().nullable() })
      .optional()
      .nullable(),
  })
  .superRefine((b, ctx) => {
    if (b.service != null && b.resource != null) ctx.addIssue({ code: 'custom', message: 'Invalid value: "": cannot set both resource and service backends' });
    else if (b.service == null && b.resource == null) ctx.addIssue({ code: 'custom', message: 'Required value: resource or service backend is required' });
  });

export type IngressBackendInput = z.output<typeof ingressBackend>;

export const ingressSchema = z.object({
  metadata: metadataSchema,
  spec: z
    .object({
      ingressClassName: apiString(dns1123SubdomainErrors).optional().nullable(),
      defaultBackend: ingressBackend.optional().nullable(),
      tls: z
        .array(z.object({ hosts: z.array(z.string()).optional().nullable(), secretName: apiString(unlessEmpty(dns1123SubdomainErrors)).optional().nullable() }))
        .optional()
        .nullable(),
      rules: z
        .array(
          z.object({
            host: apiString(unlessEmpty(ingressHostErrors)).optional().nullable(),
            http: z
              .object({
                paths: z
                  .array(
                    z.object({
                      path: z.string().optional().nullable(),
                      pathType: z.enum(['Exact', 'Prefix', 'ImplementationSpecific']),
                      backend: ingressBackend,
                    }),
                  )
                  .min(1),
              })
              .optional()
              .nullable(),
          }),
        )
        .optional()
        .nullable(),
    })
    .optional()
    .nullable(),
});

export const ingressClassSchema = z.object({
  metadata: metadataSchema,
  spec: z.object({ controller: z.string().optional().nullable() }).optional().nullable(),
});

export const secretSchema = z.object({
  metadata: metadataSchema,
  type: z.string().optional().nullable(),
  data: stringMap.optional().nullable(),
  stringData: stringMap.optional().nullable(),
});

/** apiVersion each kind must carry. */
export const KIND_API_VERSIONS = {
  Service: 'v1',
  Endpoints: 'v1',
  Secret: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
} as const;

export type KnownKind = keyof typeof KIND_API_VERSIONS;
