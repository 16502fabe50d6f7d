/**
 * One execution's authenticated requests, sent in parallel, without stampeding the token
 * endpoint: the first request goes alone, so a credential that gets its token on first use
 * (n8n's client credentials flow does, with no lock) gets it once and stores it before the
 * others read it; and once the credential itself has failed (wrong secret, refused refresh
 * token), no further request asks the token endpoint again in this execution.
 */
import { findCredentialFailure } from './credentialFailure';

export class CredentialGate {
	private first: Promise<void> | undefined;

	private failure: unknown;

	/** The error of the credential failure that closed the gate, if one did. */
	get failedWith(): unknown {
		return this.failure;
	}

	/**
	 * Runs `send`, or answers `replay(error)` without sending once the credential has failed.
	 * `errorOf` finds the error in a result (sends usually answer their errors, not throw them).
	 */
	async run<T>(send: () => Promise<T>, errorOf: (result: T) => unknown, replay: (error: unknown) => T): Promise<T> {
		if (this.failure !== undefined) return replay(this.failure);
		if (!this.first) {
			let opened!: () => void;
			this.first = new Promise<void>((resolve) => {
				opened = resolve;
			});
			try {
				return this.note(await send(), errorOf);
			} finally {
				opened();
			}
		}
		await this.first;
		if (this.failure !== undefined) return replay(this.failure);
		return this.note(await send(), errorOf);
	}

	private note<T>(result: T, errorOf: (result: T) => unknown): T {
		const error = errorOf(result);
		if (error !== undefined && this.failure === undefined && findCredentialFailure(error)) {
			this.failure = error;
		}
		return result;
	}
}
