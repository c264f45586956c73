import { loadConfig } from '../config/load.js';
import { startDaemon } from '../daemon.js';
import { createLogger } from '../logger.js';
import { str, type Parsed } from './args.js';

/** `lipsync-sync run`: the long-running worker. Resolves with the exit code after a signal-driven stop. */
export async function run(parsed: Parsed): Promise<number> {
  const configPath = str(parsed.values, 'config');
  const { config, source } = loadConfig(configPath === undefined ? {} : { configPath });
  const logger = createLogger({ level: config.log.level, ...(config.log.pretty === undefined ? {} : { pretty: config.log.pretty }) });
  logger.info({ config: source }, 'configuration loaded');
  const daemon = await startDaemon(config, logger);
  return waitForSignal(() => daemon.stop());
}

/** First SIGTERM/SIGINT stops gracefully; a second one exits at once. */
export function waitForSignal(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (): void => {
      if (signalled) process.exit(130);
      signalled = true;
      stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
