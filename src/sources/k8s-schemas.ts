/**
 * Schemas of the Kubernetes objects Switchyard reads, limited to the fields it uses (others are ignored).
 * This is the only module that knows raw Kubernetes shapes, together with normalize.ts.
 * Field rules follow the Kubernetes API reference (core/v1, discovery.k8s.io/v1, networking.k8s.io/v1).
 */
import { z } from 'zod';

const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lower-case RFC 1123 subdomain');
const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lower-case RFC 1123 label');
const portNumber = z.number().int().min(1).max(65535);
const protocol = z.enum(['TCP', 'UDP', 'SCTP']);
const stringMap = z.record(z.string(), z.string());

export const metadataSchema = z.object({
  name: dnsSubdomain,
  namespace: dnsLabel.optional(),
  creationTimestamp: z.union([z.string(), z.date()]).optional().nullable(),
  labels: stringMap.optional().nullable(),
  annotations: stringMap.optional().nullable(),
});

export const serviceSchema = z.object({
  metadata: metadataSchema,
  spec: z
    .object({
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
      clusterIP: z.string().optional().nullable(),
      clusterIPs: z.array(z.string()).optional().nullable(),
      externalName: z.string().optional().nullable(),
      ports: z
        .array(
          z.object({
            name: z.string().optional().nullable(),
            port: portNumber,
            targetPort: z.union([portNumber, z.string().min(1)]).optional().nullable(),
            protocol: protocol.optional(),
            appProtocol: z.string().optional().nullable(),
            nodePort: z.number().int().optional().nullable(),
          }),
        )
        .optional()
        .nullable(),
    })
    .optional()
    .nullable(),
});

const endpointPort = z.object({
  name: z.string().optional().nullable(),
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
  ),
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
        name: dnsLabel,
        port: z
          .object({ number: portNumber.optional().nullable(), name: z.string().min(1).optional().nullable() })
          .refine((p) => (p.number != null) !== (p.name != null), 'exactly one of port.number and port.name must be set'),
      })
      .optional()
      .nullable(),
    resource: z
      .object({ kind: z.string().min(1), name: z.string().min(1), apiGroup: z.string().optional().nullable() })
      .optional()
      .nullable(),
  })
  .refine((b) => (b.service != null) !== (b.resource != null), 'exactly one of service and resource must be set');

export type IngressBackendInput = z.output<typeof ingressBackend>;

export const ingressSchema = z.object({
  metadata: metadataSchema,
  spec: z
    .object({
      ingressClassName: z.string().optional().nullable(),
      defaultBackend: ingressBackend.optional().nullable(),
      tls: z
        .array(z.object({ hosts: z.array(z.string()).optional().nullable(), secretName: z.string().optional().nullable() }))
        .optional()
        .nullable(),
      rules: z
        .array(
          z.object({
            host: z
              .string()
              .regex(/^(\*\.)?[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/, 'must be a DNS name, optionally starting with "*."')
              .optional()
              .nullable(),
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
