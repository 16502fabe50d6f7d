/**
 * Which profile a request is about: an identifier property and its value.
 *
 * BlueConic's URL form is `?property=<id>&<id>=<value>` (for example `property=email&email=a@b.c`).
 * `property` may be left out; when present it must name the configured identifier property
 * exactly (case-sensitive). A body field can be configured as the source of the value instead;
 * when it is and the body has no value there, the URL is used.
 */
import { ConfigurationError, ProfileWebhookError } from '../errors';
import type { CompiledFieldSelector } from '../mapping/fieldSelector';
import type { RequestData } from './requestData';

/** The URL parameter that names the identifier property. */
export const PROPERTY_PARAMETER = 'property';

export interface Identifier {
	property: string;
	value: string;
}

export interface IdentifierConfig {
	/** The identifier property id, trimmed. */
	identifierProperty: string;
	/** Where in the body the value comes from, when configured. */
	source?: CompiledFieldSelector;
}

/**
 * Checks the identifier settings once per configuration. Throws `ConfigurationError`
 * `identifierProperty: must not be empty` for an empty or blank property.
 */
export function compileIdentifierConfig(config: {
	identifierProperty: string;
	source?: CompiledFieldSelector;
}): IdentifierConfig {
	const identifierProperty = typeof config.identifierProperty === 'string' ? config.identifierProperty.trim() : '';
	if (identifierProperty === '') {
		throw new ConfigurationError([{ target: 'identifierProperty', message: 'must not be empty' }]);
	}
	return config.source ? { identifierProperty, source: config.source } : { identifierProperty };
}

export interface ResolveIdentifierInput extends IdentifierConfig {
	/** The URL parameters as parsed. */
	query: Record<string, unknown>;
	/** The request (or batch record) the `source` selector reads. */
	record?: RequestData;
}

/**
 * Resolves the identifier of a request (or of one batch record). The value is trimmed; of
 * repeated URL parameters the first non-empty one counts; of several body values the first.
 * Throws `ProfileWebhookError` 400:
 * - `IDENTIFIER_MISMATCH` when the URL's `property` names another property than configured;
 * - `MISSING_IDENTIFIER` when no value is found, saying where it was expected.
 */
export function resolveIdentifier(input: ResolveIdentifierInput): Identifier {
	const { identifierProperty, query, source, record } = input;
	const named = firstNonEmpty(query[PROPERTY_PARAMETER], `property (${PROPERTY_PARAMETER}=) in the URL`);
	if (named !== undefined && named !== identifierProperty) {
		throw new ProfileWebhookError(
			400,
			'IDENTIFIER_MISMATCH',
			`The URL names the identifier property "${named}" (property=${named}) but this webhook ` +
				`identifies profiles by "${identifierProperty}"`,
		);
	}

	if (source && record) {
		const fromBody = firstNonEmpty(source.selectRaw(record), `in the request body at ${source.field}`);
		if (fromBody !== undefined) return { property: identifierProperty, value: fromBody };
	}

	const fromUrl = firstNonEmpty(query[identifierProperty], 'in the URL');
	if (fromUrl !== undefined) return { property: identifierProperty, value: fromUrl };

	const inUrl = `in the URL as ?${PROPERTY_PARAMETER}=${identifierProperty}&${identifierProperty}=<value>`;
	throw new ProfileWebhookError(
		400,
		'MISSING_IDENTIFIER',
		`No value for the identifier property "${identifierProperty}": expected ` +
			(source ? `in the request body at ${source.field} or ${inUrl}` : inUrl),
	);
}

/**
 * The first non-empty (after trimming) string or number of a value or list, as text. Identifiers
 * are scalars (DESIGN 2.1): an object, a boolean or a nested list where the value should be is a
 * 400, not its JSON text; the engine then checks the text itself (valid Unicode, length).
 */
function firstNonEmpty(value: unknown, where: string): string | undefined {
	// A list of scalars is a multi-valued field: its first non-empty value counts.
	const candidates = Array.isArray(value) ? value.flatMap((v) => (Array.isArray(v) ? v : [v])) : [value];
	for (const candidate of candidates) {
		if (candidate === undefined || candidate === null) continue;
		if (typeof candidate === 'string') {
			const trimmed = candidate.trim();
			if (trimmed !== '') return trimmed;
		} else if (typeof candidate === 'number' && Number.isFinite(candidate)) {
			return String(candidate);
		} else {
			const kind = Array.isArray(candidate) ? 'a list' : typeof candidate === 'object' ? 'an object' : `a ${typeof candidate}`;
			throw new ProfileWebhookError(
				400,
				'BAD_REQUEST',
				`The identifier ${where} must be a string or a number, not ${kind}`,
			);
		}
	}
	return undefined;
}
