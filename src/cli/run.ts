import { loadConfig } from '../config/load.js';
import { startDaemon, type StopResult } from '../daemon.js';
import { createLogger, type Logger } from '../logger.js';
import { str, type Parsed } from './args.js';

/** After the grace, how long a forced close may itself take before the process exits regardless. */
const EXIT_MARGIN_MS = 2000;

/** `lipsync-sync run`: the long-running worker. Resolves with the exit code after a signal-driven stop. */
export async function run(parsed: Parsed): Promise<number> {
  const configPath = str(parsed.values, 'config');
  const { config, source } = loadConfig(configPath === undefined ? {} : { configPath });
  const logger = createLogger({ level: config.log.level, ...(config.log.pretty === undefined ? {} : { pretty: config.log.pretty }) });
  logger.info({ config: source }, 'configuration loaded');
  // Simulator mode is the CLI's decision; a production worker never loads the simulator's code.
  const simulator = config.creatify.simulator ? new (await import('../simulator/server.js')).CreatifySimulator({ autoCreate: true, stepMs: 2000 }) : null;
  const creatifyBaseUrl = simulator === null ? undefined : await simulator.start();
  if (creatifyBaseUrl !== undefined) logger.warn({ baseUrl: creatifyBaseUrl }, 'using the built-in Creatify simulator (creatify.simulator = true)');
  const daemon = await startDaemon(config, logger, creatifyBaseUrl === undefined ? {} : { creatifyBaseUrl }).catch(async (err: unknown) => {
    await simulator?.stop();
    throw err;
  });
  return waitForSignal(
    async () => {
      const result = await daemon.stop();
      await simulator?.stop();
      return result;
    },
    { graceMs: config.shutdown.graceMs, logger },
  );
}

/**
 * First SIGTERM/SIGINT stops gracefully: exit 0 when everything finished, 1 when the grace ran out and parts
 * were forced. The process exits within grace + a small margin whatever the stop is waiting on; a second
 * signal exits at once.
 */
export function waitForSignal(stop: () => Promise<StopResult>, options: { graceMs: number; logger: Logger }): Promise<number> {
  const { graceMs, logger } = options;
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      logger.info({ signal, graceMs }, 'signal received; stopping');
      setTimeout(() => {
        logger.error({ graceMs, marginMs: EXIT_MARGIN_MS }, 'stop did not finish within the grace and margin; exiting');
        process.exit(1);
      }, graceMs + EXIT_MARGIN_MS).unref();
      stop().then(
        (result) => resolve(result.abandoned.length > 0 ? 1 : 0),
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
