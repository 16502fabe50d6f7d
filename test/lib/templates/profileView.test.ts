import { buildProfileView, renderTemplate } from '../../../lib/templates';
import type { Profile } from '../../../lib/profiles/types';

const base: Pick<Profile, 'id' | 'domainGroup' | 'legislation' | 'properties'> = {
	id: 'p-1',
	domainGroup: 'shop',
	legislation: 'NONE',
	properties: {},
};

describe('buildProfileView', () => {
	it('exposes every property as its value array and the profile fields', () => {
		const view = buildProfileView({ ...base, properties: { email: ['a@b.c'], score: [1, 2], segments: ['s1'] } });
		expect({ ...view }).toEqual({
			email: ['a@b.c'],
			score: [1, 2],
			segments: ['s1'],
			profileId: 'p-1',
			domainGroup: 'shop',
			legislation: 'NONE',
		});
	});

	it('gives segments as [] when the profile has none', () => {
		expect(buildProfileView(base).segments).toEqual([]);
		expect(renderTemplate('{"segments": {{json segments}}}', 'json', buildProfileView(base))).toBe('{"segments": []}');
	});

	it('lets profileId, domainGroup and legislation win over properties of the same name', () => {
		const view = buildProfileView({ ...base, properties: { profileId: ['spoof'], domainGroup: ['x'], legislation: ['GDPR'] } });
		expect(renderTemplate('{{profileId}} {{domainGroup}} {{legislation}}', 'text', view)).toBe('p-1 shop NONE');
	});

	it('treats __proto__ and constructor as ordinary property ids', () => {
		const properties = JSON.parse('{"__proto__": ["proto value"], "constructor": ["ctor value"]}') as Profile['properties'];
		const view = buildProfileView({ ...base, properties });
		expect(renderTemplate('{{__proto__}}|{{constructor.0}}', 'text', view)).toBe('proto value|ctor value');
		expect(Object.getOwnPropertyDescriptor(view, '__proto__')?.value).toEqual(['proto value']);
		expect(Object.getPrototypeOf(view)).toBeNull();
	});
});
