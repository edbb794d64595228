/**
 * The one error shape every client sees: `{"error": {"code", "message", "field"?, "request_id"}}`
 * (request_id is added on the way out: http/request-id.ts).
 */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; request_id?: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) },
    };
  }

  static badField(field: string, message: string, code = 'invalid_field'): ApiError {
    return new ApiError(400, code, message, field);
  }
}
