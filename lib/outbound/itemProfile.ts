/**
 * What an input item of the Profile Webhook says about its profile: a Profile Webhook Trigger
 * (or Profile Webhook) output item, a stored-profile-shaped object, or any plain item, whose
 * fields become properties. And the key its "last sent" snapshot is kept under.
 */
import type { Profile, ProfileChanges, ProfileProperties, PropertyValue, TimelineEvent } from '../profiles/types';

export interface ItemProfile {
	profile: Profile;
	changes?: ProfileChanges;
	events?: TimelineEvent[];
	/** The identifier the item names (a trigger item's `identifier`), if any. */
	identifier?: { property: string; value: string };
	/** How the profile was read: `plain` means each field of the item became a property. */
	shape: 'trigger' | 'profile' | 'plain';
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
	value !== null && typeof value === 'object' && !Array.isArray(value);

const isScalar = (value: unknown): value is PropertyValue =>
	typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

function asProfile(value: unknown): Profile | undefined {
	if (!isRecord(value) || !isRecord(value.properties)) return undefined;
	if (value.id !== undefined && typeof value.id !== 'string') return undefined;
	return {
		id: typeof value.id === 'string' ? value.id : '',
		domainGroup: typeof value.domainGroup === 'string' && value.domainGroup ? value.domainGroup : 'DEFAULT',
		legislation: typeof value.legislation === 'string' && value.legislation ? value.legislation : 'NONE',
		createdAt: typeof value.createdAt === 'string' ? value.createdAt : '',
		updatedAt: typeof value.updatedAt === 'string' ? value.updatedAt : '',
		properties: value.properties as ProfileProperties,
	};
}

/**
 * A plain item's fields as profile properties: a string, number or boolean is a one-value
 * property, an array keeps its string/number/boolean entries; null, "" and nested objects are left
 * out (a property holds values, not objects).
 */
export function propertiesFromFields(json: Record<string, unknown>): ProfileProperties {
	const properties = Object.create(null) as ProfileProperties;
	for (const [field, value] of Object.entries(json)) {
		if (field === '__proto__') continue;
		const values = (Array.isArray(value) ? value : [value]).filter(
			(entry): entry is PropertyValue => isScalar(entry) && entry !== '',
		);
		if (values.length) properties[field] = values;
	}
	return properties;
}

function identifierOf(value: unknown): ItemProfile['identifier'] {
	if (!isRecord(value) || typeof value.property !== 'string' || !value.property) return undefined;
	if (!isScalar(value.value) || value.value === '') return undefined;
	return { property: value.property, value: String(value.value) };
}

export type ItemProfileResult = { ok: true; item: ItemProfile } | { ok: false; reason: string };

/**
 * Reads the profile of an input item:
 * - a trigger or Profile Webhook output item: its `profile` (with `changes`, `timelineEvents`);
 * - an object with `properties` (a profile as stored, `id` optional);
 * - any other item: each field is a property (`{"email": "a@b.c", "plan": "gold"}`).
 * A trigger item without a profile (NOTFOUND, CONSENT_MISMATCH) is refused with its state.
 */
export function profileFromItem(json: Record<string, unknown>): ItemProfileResult {
	const nested = asProfile(json.profile);
	if (nested) {
		return {
			ok: true,
			item: {
				profile: nested,
				changes: isRecord(json.changes) ? (json.changes as ProfileChanges) : undefined,
				events: Array.isArray(json.timelineEvents) ? (json.timelineEvents as TimelineEvent[]) : undefined,
				identifier: identifierOf(json.identifier),
				shape: 'trigger',
			},
		};
	}
	if ('profile' in json && typeof json.state === 'string') {
		return {
			ok: false,
			reason: `The trigger item has no profile (state ${json.state}): there is nothing to send for it`,
		};
	}
	const stored = asProfile(json);
	if (stored) return { ok: true, item: { profile: stored, shape: 'profile' } };
	const properties = propertiesFromFields(json);
	if (Object.keys(properties).length === 0) {
		return { ok: false, reason: 'The input item has no field with a value to send' };
	}
	return {
		ok: true,
		item: {
			profile: { id: '', domainGroup: 'DEFAULT', legislation: 'NONE', createdAt: '', updatedAt: '', properties },
			shape: 'plain',
		},
	};
}

/**
 * The key of a profile's "last sent" snapshot:
 * - a profile in the store: its id (a UUID);
 * - any other profile: `identifier:<domainGroup>:<property>=<value>`, with the item's own
 *   identifier (a trigger item names one) or else the first value of `identifierProperty`
 *   (the node's "Identifier Property" option, default email). A UUID never contains ":".
 * Undefined when there is no such value: that item has no snapshot.
 */
export function snapshotKey(
	source: ItemProfile,
	profile: Profile,
	inStore: boolean,
	identifierProperty: string,
): string | undefined {
	if (inStore) return profile.id;
	const named = source.identifier;
	const property = named?.property ?? identifierProperty;
	const value = named?.value ?? profile.properties[property]?.[0];
	if (!property || value === undefined || value === '') return undefined;
	return `identifier:${profile.domainGroup || 'DEFAULT'}:${property}=${String(value)}`;
}
