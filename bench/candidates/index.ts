/**
 * Which comparison candidates run, in order, and the notes about the ones that cannot.
 */
import { fastifyProxy, httpProxy, httpProxy3, nodeRelay } from './baseline.ts';
import { direct } from './direct.ts';
import { nginxCandidate } from './nginx.ts';
import { switchyardCandidates } from './switchyard.ts';
import type { CandidateSpec } from './types.ts';

export function plannedCandidates(only: readonly string[] | null): { specs: CandidateSpec[]; notes: string[] } {
  const notes: string[] = [];
  const sy = switchyardCandidates();
  if (sy.note) notes.push(sy.note);
  const nginx = nginxCandidate();
  if (nginx === null) notes.push('nginx is not on PATH: the nginx candidate is skipped (apt-get install nginx to include it)');
  const all = [direct, ...sy.specs, httpProxy, httpProxy3, fastifyProxy, nodeRelay, ...(nginx ? [nginx] : [])];
  if (only === null) return { specs: all, notes };
  // `switchyard` asks for every variant; `switchyard-1`/`-n` fall back to the default one without --workers.
  const isSwitchyard = (id: string): boolean => id.startsWith('switchyard');
  const wanted = (spec: CandidateSpec): boolean =>
    only.includes(spec.id) || (isSwitchyard(spec.id) && only.includes('switchyard')) || (spec.id === 'switchyard' && only.some(isSwitchyard));
  for (const id of only) {
    if (!all.some((s) => s.id === id || (isSwitchyard(id) && isSwitchyard(s.id)))) notes.push(`--only ${id}: not available here, skipped`);
  }
  return { specs: all.filter(wanted), notes };
}
