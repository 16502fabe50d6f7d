/**
 * Consent and legislation: ONE rule for every node (DESIGN 2.1). The trigger (is this request
 * allowed to change the profile?), the Profile Webhook (may we send it?) and the Profiles node all
 * ask here.
 */
import { ProfileWebhookError } from '../errors';
import { cleanList } from '../lists';
import { CONSENTED_OBJECTIVES, DEFAULT_LEGISLATION, REFUSED_OBJECTIVES, type ProfileProperties } from './types';

/** Legislations, loosest first. Consent is judged on the stricter of stored and requested. */
export const LEGISLATIONS = ['NONE', 'GDPR'] as const;
export type Legislation = (typeof LEGISLATIONS)[number];

/** Reads a legislation as callers write it (any case); refuses anything else with a 400. */
export function parseLegislation(text: unknown): Legislation {
	const upper = typeof text === 'string' ? text.trim().toUpperCase() : '';
	if ((LEGISLATIONS as readonly string[]).includes(upper)) return upper as Legislation;
	throw new ProfileWebhookError(
		400,
		'BAD_REQUEST',
		`Unknown legislation ${JSON.stringify(String(text))}: use ${LEGISLATIONS.join(' or ')}`,
	);
}

/** Stored legislations from older stores may be in any case; unknown ones are treated as the strictest. */
function rank(legislation: string | undefined): number {
	const index = (LEGISLATIONS as readonly string[]).indexOf((legislation ?? DEFAULT_LEGISLATION).toUpperCase());
	return index === -1 ? LEGISLATIONS.length - 1 : index;
}

/**
 * The legislation after a request: set on creation, tightened (NONE -> GDPR), never loosened.
 */
export function nextLegislation(stored: string | undefined, requested: string | undefined): Legislation {
	const a = rank(stored);
	const b = requested === undefined ? -1 : rank(requested);
	return LEGISLATIONS[Math.max(a, b)];
}

export type ConsentDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: ConsentDecision = { allowed: true };

function listOf(properties: Readonly<ProfileProperties>, property: string): Set<string> {
	return new Set((Object.hasOwn(properties, property) ? properties[property] : []).map(String));
}

/**
 * A profile passes objectives O when O is empty, or it consented to an objective in O that it has
 * not refused, or its legislation is not GDPR and it has not refused every objective in O.
 * `properties` are the profile's properties as they will be after the request (consent written by
 * the same request counts).
 */
export function consentDecision(
	profile: { legislation: string; properties: Readonly<ProfileProperties> },
	objectives: readonly string[],
): ConsentDecision {
	const selected = cleanList(objectives);
	if (!selected.length) return ALLOWED;
	const consented = listOf(profile.properties, CONSENTED_OBJECTIVES);
	const refused = listOf(profile.properties, REFUSED_OBJECTIVES);
	if (selected.some((o) => consented.has(o) && !refused.has(o))) return ALLOWED;
	const optIn = rank(profile.legislation) >= rank('GDPR');
	if (!optIn && !selected.every((o) => refused.has(o))) return ALLOWED;
	const quoted = selected.map((o) => `"${o}"`).join(', ');
	return {
		allowed: false,
		reason: optIn
			? `The profile falls under ${profile.legislation.toUpperCase()} and has not consented to any of the objectives ${quoted}.`
			: `The profile refused every one of the objectives ${quoted}.`,
	};
}

/**
 * Records consent or refusal: consenting to an objective removes it from the refusals and the
 * other way round. Returns the two properties' new values.
 */
export function recordConsent(
	properties: Readonly<ProfileProperties>,
	change: { consented?: readonly string[]; refused?: readonly string[] },
): { consented: string[]; refused: string[] } {
	const consented = [...listOf(properties, CONSENTED_OBJECTIVES)];
	const refused = [...listOf(properties, REFUSED_OBJECTIVES)];
	const give = new Set(cleanList(change.consented));
	const take = new Set(cleanList(change.refused));
	for (const o of give) if (take.has(o)) throw new ProfileWebhookError(422, 'VALIDATION_FAILED', `The objective "${o}" cannot be consented to and refused at once`);
	const nextConsented = consented.filter((o) => !take.has(o));
	for (const o of give) if (!nextConsented.includes(o)) nextConsented.push(o);
	const nextRefused = refused.filter((o) => !give.has(o));
	for (const o of take) if (!nextRefused.includes(o)) nextRefused.push(o);
	return { consented: nextConsented, refused: nextRefused };
}
