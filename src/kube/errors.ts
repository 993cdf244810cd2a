// Errors from the API server, with the HTTP status and the Status reason.
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const isNotFound = (err: unknown) => err instanceof ApiError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof ApiError && err.status === 409;
