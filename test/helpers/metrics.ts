/** Reading a Prometheus text exposition (GET /metrics) in tests. */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of `text` (comments skipped). Throws on a line that is neither. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include every pair of `labels` (values may be RegExps). */
export function sumSamples(text: string, name: string, labels: Readonly<Record<string, string | RegExp>> = {}): number {
  let sum = 0;
  for (const s of parseSamples(text)) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (typeof v === 'string' ? s.labels[k] === v : s.labels[k] !== undefined && v.test(s.labels[k]!)))) sum += s.value;
  }
  return sum;
}
