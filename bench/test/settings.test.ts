import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESULTS_FILE, PROTOCOL_SECTIONS, parseSettings, type Settings } from '../settings.ts';

const parse = (...argv: string[]): Settings => parseSettings(argv) as Settings;

describe('parseSettings: which runs', () => {
  it.each([
    [[], { comparison: true, scale: true, protocols: true }],
    [['--skip-protocols'], { comparison: true, scale: true, protocols: false }],
    [['--protocols-only'], { comparison: false, scale: false, protocols: true }],
    [['--scale-only'], { comparison: false, scale: true, protocols: false }],
    [['--skip-scale', '--skip-protocols'], { comparison: true, scale: false, protocols: false }],
    [['--skip-scale'], { comparison: true, scale: false, protocols: true }],
  ])('%j', (argv, runs) => {
    expect(parse(...argv)).toMatchObject(runs);
  });

  it('--quick: 3 rounds × 2 s, comparison and scale, no protocols run (it does not fit in 2 minutes)', () => {
    expect(parse('--quick')).toMatchObject({ quick: true, durationSeconds: 2, rounds: 3, comparison: true, scale: true, protocols: false, h2Streams: 25, baseDir: null, out: DEFAULT_RESULTS_FILE });
    expect(parse()).toMatchObject({ quick: false, durationSeconds: 10, rounds: 3 });
  });

  it('--quick with the protocols run asked for by name: --protocols-only stays the 1-round smoke test, --sections adds it', () => {
    expect(parse('--quick', '--protocols-only')).toMatchObject({ rounds: 1, durationSeconds: 2, comparison: false, scale: false, protocols: true, sections: [...PROTOCOL_SECTIONS] });
    expect(parse('--quick', '--sections', 'tls')).toMatchObject({ rounds: 3, comparison: true, protocols: true, sections: ['tls'] });
    expect(parse('--quick', '--skip-protocols')).toMatchObject({ protocols: false });
  });

  it('--quick: explicit --rounds and --duration still win', () => {
    expect(parse('--quick', '--rounds', '5', '--duration', '4')).toMatchObject({ quick: true, rounds: 5, durationSeconds: 4 });
  });

  it('--only knows http-proxy-3', () => {
    expect(parse('--only', 'http-proxy-3,nginx').only).toEqual(['http-proxy-3', 'nginx']);
  });
});

describe('parseSettings: protocols flags', () => {
  it('--sections picks sections, in the run order whatever the order given', () => {
    expect(parse('--sections', 'grpc, TLS').sections).toEqual(['tls', 'grpc']);
  });

  it('--h2-streams, --out', () => {
    const s = parse('--h2-streams', '50', '--out', 'x/y.json');
    expect(s.h2Streams).toBe(50);
    expect(s.out).toBe(path.resolve('x/y.json'));
  });

  it('--base-dir must hold a bin/switchyard.js', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-settings-'));
    expect(() => parse('--base-dir', dir)).toThrow(/--base-dir: .* holds no bin\/switchyard\.js/);
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'switchyard.js'), '');
    expect(parse('--base-dir', dir).baseDir).toBe(dir);
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      parse('--sections', 'tls,quic', '--h2-streams', '0', '--skip-protocols', '--protocols-only', '--scale-only');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      '--skip-protocols and --protocols-only exclude each other',
      '--scale-only and --protocols-only exclude each other',
      expect.stringMatching(/^--sections: "tls,quic" names unknown sections \(quic\)/),
      '--h2-streams: "0" is not a whole number from 1 to 1000',
    ]);
  });

  it('--sections with the protocols run left out is an error', () => {
    expect(() => parse('--skip-protocols', '--sections', 'tls')).toThrow(/--sections applies to the protocols run/);
    expect(() => parse('--sections', ',')).toThrow(/names no section/);
  });

  it('unknown flags are refused', () => {
    expect(() => parse('--protocols')).toThrow();
  });
});
