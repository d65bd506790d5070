/** Gateway API manifests for the integration tests of test/integration/gateway-api/. */
import { tempManifestDir, writeManifest, type Manifest } from '../../helpers/manifests.ts';
import { unusedPort } from '../../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../../helpers/switchyard.ts';

/** Flags that open the Gateway listener ports on loopback (the default is 0.0.0.0). */
export const GATEWAY_ON_LOOPBACK = ['--gateway-address', '127.0.0.1'] as const;

/** A free loopback port for a Gateway listener: HTTPRoutes are answered there, not on --listen. */
export async function gatewayPort(): Promise<HostPort> {
  return { host: '127.0.0.1', port: await unusedPort('127.0.0.1') };
}

/**
 * Switchyard from `manifests` behind one Gateway `shop/gw` with an HTTP listener on a free loopback port,
 * and that port (`at`) once it is open.
 */
export async function startWithGateway(manifests: readonly Manifest[], args: readonly string[] = []): Promise<{ sy: RunningSwitchyard; at: HostPort }> {
  const at = await gatewayPort();
  const dir = await tempManifestDir();
  await writeManifest(dir, 'gateway.yaml', [gatewayClass(), gateway('shop', web(at.port)), ...manifests]);
  const sy = await startSwitchyard({ manifests: dir, args: [...GATEWAY_ON_LOOPBACK, ...args] });
  await sy.waitForLog((l) => l.msg === 'gateway listener port open' && l.port === at.port, 10_000);
  return { sy, at };
}

/** One HTTP listener `web` on `port` (for gateway()). */
export function web(port: number, extra: Manifest = {}): Manifest[] {
  return [{ name: 'web', port, protocol: 'HTTP', ...extra }];
}

const V1 = 'gateway.networking.k8s.io/v1';

export function gatewayClass(name = 'switchyard', controllerName = 'switchyard.dev/gateway-controller'): Manifest {
  return { apiVersion: V1, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

/** A Gateway `gw` in `namespace` with one HTTP listener `web` on port 80 unless listeners are given. */
export function gateway(namespace: string, listeners: readonly Manifest[] = [{ name: 'web', port: 80, protocol: 'HTTP' }], className = 'switchyard', name = 'gw'): Manifest {
  return { apiVersion: V1, kind: 'Gateway', metadata: { name, namespace }, spec: { gatewayClassName: className, listeners } };
}

export function httpRoute(name: string, namespace: string, spec: Manifest, creationTimestamp?: string): Manifest {
  return {
    apiVersion: V1,
    kind: 'HTTPRoute',
    metadata: { name, namespace, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec: { parentRefs: [{ name: 'gw' }], ...spec },
  };
}

/** A rule to Service port 80 of `service`, with optional matches. */
export function toService(service: string, matches?: readonly Manifest[]): Manifest {
  return { ...(matches ? { matches } : {}), backendRefs: [{ name: service, port: 80 }] };
}
