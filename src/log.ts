// One pino root logger (JSON lines, `"level":"info"` as log pipelines expect); components take child loggers.
// Secrets are redacted by path as a guard, but the rule is simpler: credentials are never passed to a logger.
import { pino, type Logger } from 'pino';

export function rootLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'scalable-app-operator' },
      redact: { paths: ['*.password', '*.data', '*.stringData', 'credentials'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
