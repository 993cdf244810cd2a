// When a data store cannot be reached, the shop fails only the requests that need it, with a 503 that names it.
// Unavailable is that error; isUnavailable tells an outage (refused, reset, timed out, client offline) from a bug.

/** A dependency (`redis`, `primary`, `replica`, `shard-1`, …) that does not answer: the answer is 503, retry. */
export class Unavailable extends Error {
  constructor(
    readonly dependency: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable: ${detail}`, options);
    this.name = 'Unavailable';
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
]);
const UNAVAILABLE_NAMES = new Set([
  'ClientClosedError',
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
]);

/** A data store that cannot be reached (rather than a bug): worth retrying, elsewhere or later. */
export function isUnavailable(err: unknown): boolean {
  // Duck-typed, not `instanceof Error`: errors from node's own sockets may come from another realm (jest's VM).
  if (typeof err !== 'object' || err === null) return false;
  if (err instanceof Unavailable) return true;
  const code = (err as { code?: unknown }).code;
  // node-redis' error classes do not set `name`; their class names tell.
  return (
    (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || UNAVAILABLE_NAMES.has(err.constructor.name)
  );
}

/** `promise`, or an Unavailable naming `dependency` after `ms`; `onExpiry` may free what the promise holds. */
export async function deadline<T>(
  promise: Promise<T>,
  ms: number,
  dependency: string,
  onExpiry?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpiry?.();
      reject(new Unavailable(dependency, `no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
