/**
 * Gateway API status helpers on snapshot data, shared by compile (which computes the table) and its
 * readers (admin API, status write-back), which merge in the listener outcomes decided beside compile.
 */
import type { GatewayStatusTable, ListenerStatusView, StatusCondition } from './gateway-status-types.ts';
import type { GatewayListenerState, Snapshot } from './types.ts';

/** `of`: the object (its metadata.generation) the condition is about. */
export const statusCondition = (type: string, status: StatusCondition['status'], reason: string, message: string, of: { readonly generation?: number }): StatusCondition => ({
  type,
  status,
  reason,
  message,
  observedGeneration: of.generation ?? 0,
});

const isTrue = (conditions: readonly StatusCondition[], type: string): boolean => conditions.some((c) => c.type === type && c.status === 'True');

/** A Gateway's Accepted and Programmed from its listeners': ListenersNotValid when some cannot be served. */
export function gatewayConditions(listeners: readonly ListenerStatusView[], generation: number): StatusCondition[] {
  const meta = { generation };
  const invalid = listeners.filter((l) => !isTrue(l.conditions, 'Accepted') || isTrue(l.conditions, 'Conflicted')).map((l) => l.name);
  const programmed = listeners.filter((l) => isTrue(l.conditions, 'Programmed'));
  const pending = listeners.some((l) => l.conditions.some((c) => c.type === 'Programmed' && c.reason === 'Pending'));
  const accepted =
    invalid.length === 0
      ? statusCondition('Accepted', 'True', 'Accepted', 'accepted by Switchyard', meta)
      : invalid.length < listeners.length
        ? statusCondition('Accepted', 'True', 'ListenersNotValid', `listener(s) ${invalid.join(', ')} cannot be served; the others are`, meta)
        : statusCondition('Accepted', 'False', 'ListenersNotValid', 'no listener can be served', meta);
  const program =
    programmed.length > 0
      ? statusCondition('Programmed', 'True', 'Programmed', `served on listener(s) ${programmed.map((l) => l.name).join(', ')}`, meta)
      : statusCondition('Programmed', 'False', pending ? 'Pending' : 'Invalid', pending ? 'waiting for the listener ports' : 'no listener is served', meta);
  return [accepted, program];
}

/**
 * `table` with the listener outcomes the snapshot's `gatewayListeners` hold (ports bound or not, TLS
 * certificate references), which are decided after or beside compile; Gateway conditions follow them.
 * Route kinds the listener cannot take keep ResolvedRefs False (InvalidRouteKinds). Pure.
 */
export function withListenerStates(table: GatewayStatusTable, states: readonly GatewayListenerState[] | undefined): GatewayStatusTable {
  if (states === undefined || states.length === 0) return table;
  const byKey = new Map(states.map((s) => [`${s.namespace}/${s.gateway}/${s.listener}`, s]));
  const gateways = table.gateways.map((gw) => {
    const generation = gw.conditions[0]?.observedGeneration ?? 0;
    const meta = { generation };
    const listeners = gw.listeners.map((l) => {
      const s = byKey.get(`${gw.namespace}/${gw.name}/${l.name}`);
      if (!s) return l;
      const from = (type: string, c: GatewayListenerState['accepted']) => statusCondition(type, c.status ? 'True' : 'False', c.reason, c.message, meta);
      const kinds = l.conditions.find((c) => c.type === 'ResolvedRefs' && c.reason === 'InvalidRouteKinds');
      const conditions = [from('Accepted', s.accepted), from('Conflicted', s.conflicted), kinds && s.resolvedRefs.status ? kinds : from('ResolvedRefs', s.resolvedRefs), from('Programmed', s.programmed)];
      return { ...l, conditions };
    });
    return { ...gw, listeners, conditions: gatewayConditions(listeners, generation) };
  });
  return { ...table, gateways };
}


/** The snapshot's Gateway API status with its listener outcomes applied; empty when none was computed. */
export function gatewayStatusOf(snapshot: Pick<Snapshot, 'gatewayStatus' | 'gatewayListeners'>): GatewayStatusTable {
  return withListenerStates(snapshot.gatewayStatus ?? EMPTY, snapshot.gatewayListeners);
}

const EMPTY: GatewayStatusTable = { classes: [], gateways: [], routes: [] };
