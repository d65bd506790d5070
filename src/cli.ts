/**
 * `switchyard`: parse flags, start, stop gracefully on SIGINT/SIGTERM, reopen the access log on SIGUSR1.
 * Exit codes: 0 after a clean stop, 1 when start-up fails (bad manifests, a port in use), 2 for bad flags.
 * `switchyard check`: 0 when the manifests would start the proxy, 1 when they would not, 2 for bad flags.
 * `switchyard explain`: 0 when a route matches the URL, 1 when none does (or the manifests do not load),
 * 2 for bad flags or a bad URL, method or header.
 * `switchyard cleanup --proxy-mode nftables`: 0 when the service proxy's nftables tables are gone, 1 when nft failed, 2 for bad flags.
 */
import { VERSION } from './admin/metrics.ts';
import type { SwyError } from './errors.ts';
import { USAGE, parseFlags } from './flags.ts';
import { createRootLogger } from './log.ts';
import { startSwitchyard } from './main.ts';

export async function runCli(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'check') return runCheck(argv.slice(1));
  if (argv[0] === 'explain') return runExplain(argv.slice(1));
  if (argv[0] === 'cleanup') {
    const { runCleanup } = await import('./runtime/cleanup-cli.ts');
    return runCleanup(argv.slice(1), (t) => process.stdout.write(t), (t) => process.stderr.write(t));
  }
  const parsed = parseFlags(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`switchyard ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(parsed.errors.map((e) => `switchyard: ${e}\n`).join('') + '\n' + USAGE);
    return 2;
  }
  const log = createRootLogger(parsed.config.logLevel);
  let app;
  try {
    app = await startSwitchyard(parsed.config, log);
  } catch (err) {
    const e = err as SwyError;
    log.fatal({ code: e.code, file: e.location?.file, document: e.location?.document, path: e.location?.path }, `start-up failed: ${e.message}`);
    process.stderr.write(`switchyard: ${e.code ?? 'error'}: ${e.message}\n`);
    if (typeof e.code !== 'string' || !e.code.startsWith('SWY_ERR_')) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
  const running = app;
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'signal received');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // SIGTERM comes from an orchestrator: give the load balancer in front time to see /readyz fail.
      // SIGINT is a person at a terminal: stop now.
      running.stop({ delayMs: signal === 'SIGTERM' ? parsed.config.shutdownDelayMs : 0 }).then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // logrotate's postrotate: the access log file was moved; write to a new one at the same path.
    process.on('SIGUSR1', () => {
      log.info({ signal: 'SIGUSR1' }, 'signal received: reopening the access log');
      running.reopenLogs();
    });
  });
}

/** `switchyard check --manifests PATH ...`: the report on stdout, nothing started. */
async function runCheck(argv: readonly string[]): Promise<number> {
  // The subcommands' modules are imported when run: a proxy's start never loads them.
  const { checkManifests, formatCheckReport, parseCheckArgs } = await import('./runtime/check.ts');
  const parsed = parseCheckArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(parsed.errors.map((e) => `switchyard check: ${e}\n`).join('') + '\n' + USAGE);
    return 2;
  }
  const result = await checkManifests(parsed.config);
  process.stdout.write(parsed.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatCheckReport(result, process.cwd()));
  return result.ok ? 0 : 1;
}

/** `switchyard explain --manifests PATH ... URL`: the routing decision on stdout, nothing started. */
async function runExplain(argv: readonly string[]): Promise<number> {
  const { explainManifests, parseExplainArgs } = await import('./runtime/explain-cli.ts');
  const { formatExplanation } = await import('./runtime/explain-format.ts');
  const parsed = parseExplainArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(parsed.errors.map((e) => `switchyard explain: ${e}\n`).join(''));
    return 2;
  }
  const result = await explainManifests(parsed.config, parsed.request);
  if (!result.ok) {
    process.stderr.write(result.errors.map((e) => `switchyard explain: ${e.code ?? 'error'}: ${e.message}\n`).join('') + 'switchyard explain: the manifests do not load, so the proxy would not start (switchyard check tells more)\n');
    return 1;
  }
  const x = result.explanation;
  process.stdout.write(parsed.output === 'json' ? `${JSON.stringify(x, null, 2)}\n` : formatExplanation(x));
  return x.matched ? 0 : 1;
}
