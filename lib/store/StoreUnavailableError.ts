import { ProfileWebhookError } from '../errors';

/**
 * The store cannot serve the request now: it stayed busy (locked by other writers) past the retry
 * bound, or it cannot be opened. The trigger answers 503, asking the caller to retry.
 */
export class StoreUnavailableError extends ProfileWebhookError {
	constructor(message: string, cause?: unknown) {
		super(503, 'STORE_UNAVAILABLE', message, [], { 'Retry-After': '1' });
		this.name = 'StoreUnavailableError';
		if (cause !== undefined) this.cause = cause;
	}
}
