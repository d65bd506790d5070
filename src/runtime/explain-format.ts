/** The text rendering of an Explanation (explain.ts) for `switchyard explain`. */
import type { Explanation } from './explain.ts';
import { conditionText } from './explain-weighted.ts';

const HOST_FROM: Record<Explanation['request']['hostFrom'], string> = { url: 'from the URL', 'host-header': 'from the Host header', none: 'none given' };

/** A few short blocks: the request, the verdict, host and route with why, losers, backend and endpoints, what to change. */
export function formatExplanation(x: Explanation): string {
  const out: string[] = [];
  const { request: r } = x;
  out.push(`${r.method} ${r.url}`);
  out.push(`  routed on host ${r.host === '' ? '(none)' : r.host} (${HOST_FROM[r.hostFrom]}) and path ${r.path}; the method, other headers and query only for routes with conditions`);
  out.push('', `Result: ${x.summary}`);
  out.push('', `Host:   ${x.host.rule ?? '(no host rule)'}: ${x.host.reason}`);
  if (x.route) {
    const rule = x.route.default ? 'default backend' : `${x.route.host} ${x.route.path} (${x.route.pathType})`;
    out.push(`Route:  ${rule} -> ${x.route.service}  [${x.route.default ? 'Ingress' : x.route.kind} ${x.route.name}]`);
    out.push(`        ${x.route.reason}`);
    for (const c of x.route.conditions?.list ?? []) out.push(`        when ${conditionText(c)}: ${c.satisfied ? 'yes' : 'no'}`);
  } else if (x.outcome === 'no-route') {
    out.push('Route:  none');
  }
  if (x.losers.length > 0) {
    out.push('', 'Lost:');
    for (const l of x.losers) out.push(`  - ${l.rule}${l.ingress ? `  [${l.kind ?? 'Ingress'} ${l.ingress}]` : ''}: ${l.reason}`);
    if (x.losersOmitted > 0) out.push(`  … and ${x.losersOmitted} more that lost (the admin API's /api/v1/routes lists every route)`);
  }
  if (x.ignored.length > 0 && (x.outcome === 'no-route' || x.ignored.length <= 5)) {
    out.push('', 'Not served at all (ingress class):');
    for (const i of x.ignored.slice(0, 10)) out.push(`  - Ingress ${i.ingress}: ${i.reason}`);
    if (x.ignored.length > 10) out.push(`  … and ${x.ignored.length - 10} more`);
  }
  if (x.weighting) {
    out.push('', 'Weights:');
    for (const w of x.weighting.backends) out.push(`  ${w.service}  weight ${w.weight} (${w.share} %)${w.backend === null ? `  does not resolve (${w.problem ?? 'unknown'}): answered 500` : ''}${w.next ? '  <- next' : ''}`);
    out.push(`  ${x.weighting.note}`);
  }
  if (x.affinity.length > 0) {
    out.push('', 'Affinity:');
    for (const a of x.affinity) out.push(`  - ${a}`);
  }
  if (x.backend) {
    const b = x.backend;
    out.push('', `Backend: Service ${b.service} port ${b.port}${b.portName ? ` (${b.portName})` : ''}${b.terminatingFallback ? ', no ready endpoint: the terminating ones that still serve take the traffic' : ''}`);
    if (x.endpoints.length === 0) out.push('  no endpoints');
    const width = Math.max(0, ...x.endpoints.map((e) => e.key.length));
    for (const e of x.endpoints) {
      const next = x.balancing?.next === e.key ? '  <- next' : '';
      const pod = e.targetRef ? `  ${e.targetRef}` : '';
      const reason = e.state === 'ready' ? '' : ` (${e.reason})`;
      out.push(`  ${e.key.padEnd(width)}  ${e.state}${reason}${pod}${e.inRotation ? '' : '  [not in rotation]'}${next}`);
    }
  }
  if (x.balancing) out.push('', `Round-robin: ${x.balancing.note}`);
  if (x.hints.length > 0) {
    out.push('', x.matched && x.outcome === 'forward' ? 'Note:' : 'What to change:');
    for (const h of x.hints) out.push(`  - ${h}`);
  }
  return `${out.join('\n')}\n`;
}
