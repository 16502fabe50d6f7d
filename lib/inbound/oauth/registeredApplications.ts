/**
 * The applications a trigger issues its own access tokens to (client_credentials): written in the
 * credential either as `client_id:client_secret` lines or as a JSON array of
 * `{ "clientId", "clientSecret", "scopes"? }`. Secrets are kept only as SHA-256 digests.
 */
import { createHash } from 'node:crypto';

import { ConfigurationError, type ValidationIssue } from '../../errors';

export interface RegisteredApplication {
	clientId: string;
	secretDigest: Buffer;
	/** The scopes it may be granted; undefined: the trigger's required scopes. */
	scopes?: string[];
}

/** Shortest client secret accepted: a guessable secret would make the token URL an oracle. */
export const MIN_CLIENT_SECRET_LENGTH = 16;

const TARGET = 'Registered Applications';
const CLIENT_ID = /^[\x21-\x7e]+$/;

export function secretDigest(secret: string): Buffer {
	return createHash('sha256').update(secret, 'utf8').digest();
}

function scopeList(value: unknown): string[] | undefined | null {
	if (value === undefined) return undefined;
	if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
	if (Array.isArray(value) && value.every((s) => typeof s === 'string')) {
		return (value as string[]).map((s) => s.trim()).filter(Boolean);
	}
	return null;
}

export function parseRegisteredApplications(text: string): RegisteredApplication[] {
	const issues: ValidationIssue[] = [];
	const entries: Array<{ where: string; clientId: unknown; clientSecret: unknown; scopes: unknown }> = [];
	const trimmed = text.trim();
	if (trimmed.startsWith('[')) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(trimmed);
		} catch (error) {
			throw new ConfigurationError([{ target: TARGET, message: `not valid JSON: ${(error as Error).message}` }]);
		}
		if (!Array.isArray(parsed)) {
			throw new ConfigurationError([{ target: TARGET, message: 'must be a JSON array of applications' }]);
		}
		parsed.forEach((entry, index) => {
			const where = `application ${index + 1}`;
			if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
				issues.push({ target: TARGET, message: `${where} is not an object with clientId and clientSecret` });
				return;
			}
			const { clientId, clientSecret, scopes, scope } = entry as Record<string, unknown>;
			entries.push({ where, clientId, clientSecret, scopes: scopes ?? scope });
		});
	} else {
		text.split(/\r?\n/).forEach((raw, index) => {
			const line = raw.trim();
			if (!line || line.startsWith('#')) return;
			const where = `line ${index + 1}`;
			const colon = line.indexOf(':');
			if (colon <= 0) {
				issues.push({ target: TARGET, message: `${where} is not client_id:client_secret` });
				return;
			}
			// The secret is everything after the first colon, so it may contain colons itself.
			entries.push({ where, clientId: line.slice(0, colon).trim(), clientSecret: line.slice(colon + 1).trim(), scopes: undefined });
		});
	}

	const seen = new Set<string>();
	const applications: RegisteredApplication[] = [];
	for (const { where, clientId, clientSecret, scopes } of entries) {
		if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId) || clientId.includes(':')) {
			issues.push({ target: TARGET, message: `${where}: the client id must be printable characters without spaces or colons` });
			continue;
		}
		if (seen.has(clientId)) {
			issues.push({ target: TARGET, message: `${where}: the client id ${clientId} is listed twice` });
			continue;
		}
		seen.add(clientId);
		if (typeof clientSecret !== 'string' || clientSecret.length < MIN_CLIENT_SECRET_LENGTH) {
			issues.push({
				target: TARGET,
				message: `${where}: the client secret of ${clientId} must be at least ${MIN_CLIENT_SECRET_LENGTH} characters`,
			});
			continue;
		}
		const list = scopeList(scopes);
		if (list === null) {
			issues.push({ target: TARGET, message: `${where}: scopes must be a list of strings or a space-separated string` });
			continue;
		}
		applications.push({ clientId, secretDigest: secretDigest(clientSecret), ...(list ? { scopes: list } : {}) });
	}
	if (issues.length) throw new ConfigurationError(issues);
	return applications;
}
