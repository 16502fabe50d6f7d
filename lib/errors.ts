/**
 * Errors the engine raises. Each carries the HTTP status the trigger answers with and a stable
 * code; the n8n adapters turn them into HTTP answers or NodeOperationError/NodeApiError.
 * Messages never contain secrets.
 */
export type ErrorCode =
	| 'BAD_REQUEST'
	| 'MALFORMED_BODY'
	| 'MISSING_IDENTIFIER'
	| 'IDENTIFIER_MISMATCH'
	| 'UNAUTHORIZED'
	| 'FORBIDDEN'
	| 'PAYLOAD_TOO_LARGE'
	| 'UNSUPPORTED_MEDIA_TYPE'
	| 'VALIDATION_FAILED'
	| 'STORE_UNAVAILABLE'
	/** The authorization server (JWKS, token introspection) could not be asked: 503. */
	| 'AUTH_SERVER_UNAVAILABLE'
	| 'CONFIGURATION_INVALID';

export interface ValidationIssue {
	/** What the issue is about: a property id, a field path, a parameter name. */
	target: string;
	message: string;
}

export class ProfileWebhookError extends Error {
	constructor(
		readonly status: number,
		readonly code: ErrorCode,
		message: string,
		readonly issues: ValidationIssue[] = [],
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = 'ProfileWebhookError';
	}

	toBody(): { error: { code: ErrorCode; message: string; issues?: ValidationIssue[] } } {
		return {
			error: {
				code: this.code,
				message: this.message,
				...(this.issues.length ? { issues: this.issues } : {}),
			},
		};
	}
}

/** A request or change set that breaks a rule: 422, every issue listed, nothing written. */
export class ValidationError extends ProfileWebhookError {
	constructor(issues: ValidationIssue[]) {
		super(
			422,
			'VALIDATION_FAILED',
			issues.map((i) => `${i.target}: ${i.message}`).join('; '),
			issues,
		);
		this.name = 'ValidationError';
	}
}

/** A node configuration that cannot work (bad JsonPath, bad CIDR, empty identifier property). */
export class ConfigurationError extends ProfileWebhookError {
	constructor(issues: ValidationIssue[]) {
		super(
			500,
			'CONFIGURATION_INVALID',
			issues.map((i) => `${i.target}: ${i.message}`).join('; '),
			issues,
		);
		this.name = 'ConfigurationError';
	}
}

/**
 * Runs one compile step of a larger configuration: its ConfigurationError issues are added to
 * `issues` (so one error can list every problem) and undefined is returned in their place.
 */
export function collectIssues<T>(
	issues: ValidationIssue[],
	build: () => T,
	/** Where the step sits in the node (a parameter's name), put before each issue's target. */
	within?: string,
): T | undefined {
	try {
		return build();
	} catch (error) {
		if (!(error instanceof ConfigurationError)) throw error;
		issues.push(
			...error.issues.map((i) => (within ? { ...i, target: `${within}: ${i.target}` } : i)),
		);
		return undefined;
	}
}
