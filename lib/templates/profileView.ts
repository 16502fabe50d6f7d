import type { Profile, PropertyValue } from '../profiles/types';
import { SEGMENTS } from '../profiles/types';

/** A value a template can read: what JSON can hold. */
export type TemplateValue =
	| PropertyValue
	| null
	| undefined
	| readonly TemplateValue[]
	| { readonly [key: string]: TemplateValue };

/** What templates are rendered over. Only own properties are ever looked up. */
export type TemplateView = { readonly [key: string]: TemplateValue };

/**
 * The view of one profile, as BlueConic's own templates see it: every property id is its value
 * array (`{{email}}` renders the values joined with ",", `{{email.0}}` the first one), plus
 * `profileId`, `segments` (the `segments` property, `[]` when absent), `domainGroup` and
 * `legislation`. Those four names win over properties of the same name.
 */
export function buildProfileView(
	profile: Pick<Profile, 'id' | 'domainGroup' | 'legislation' | 'properties'>,
): TemplateView {
	// No prototype: a property called `__proto__` or `constructor` is just a property.
	const view = Object.create(null) as Record<string, TemplateValue>;
	for (const [property, values] of Object.entries(profile.properties)) {
		view[property] = values;
	}
	view.profileId = profile.id;
	view.segments = profile.properties[SEGMENTS] ?? [];
	view.domainGroup = profile.domainGroup;
	view.legislation = profile.legislation;
	return view;
}
