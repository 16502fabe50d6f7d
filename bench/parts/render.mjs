/**
 * Part 5: the package's compiled templates and JsonPaths against the libraries they wrap.
 * - 5.template: a compiled outgoing request (URL, header, JSON body; context escaping, URL origin
 *   check, JSON body check) rendered over a profile view, against plain Mustache.render of the same
 *   three templates with the same escape functions (Mustache caches its parse, so neither parses).
 * - 5.jsonpath: compiled JsonPaths (validated and canonicalised once) against jsonpath-plus called
 *   per request with the same paths (eval 'safe').
 */
import { join } from 'node:path';

import { compare, row } from '../lib/measure.mjs';
import { requireFromRepo } from '../lib/n8nContext.mjs';

const URL_TEMPLATE = 'https://crm.example.com/contacts/{{email.0}}?source={{source.0}}';
const HEADER_TEMPLATE = '{{profileId}}';
const BODY_TEMPLATE = '{"email":"{{email.0}}","name":"{{firstname.0}}","visits":"{{visits.0}}","id":"{{profileId}}","city":"{{city.0}}"}';
const PATHS = ['$.firstName', '$.visits', '$.tags[*]', '$.data.merges.EMAIL', '$.items[*].sku'];

export async function run({ dist, roundMs, rounds, only }) {
	const want = (id) => !only || only.includes(id);
	const req = (m) => requireFromRepo(join(dist, m));
	const rows = [];

	if (want('5.template')) {
		const Mustache = requireFromRepo('mustache');
		const { compileRequest } = req('lib/outbound/request.js');
		const { buildProfileView } = req('lib/templates/profileView.js');
		const compiled = compileRequest({
			method: 'POST',
			url: URL_TEMPLATE,
			headers: [{ name: 'X-Profile-Id', value: HEADER_TEMPLATE }],
			bodyFormat: 'json',
			body: BODY_TEMPLATE,
		});
		const profiles = Array.from({ length: 64 }, (_, i) => ({
			id: `0b6c1e9e-0000-4000-8000-${String(i).padStart(12, '0')}`,
			domainGroup: 'DEFAULT',
			legislation: 'NONE',
			properties: {
				email: [`user${i}@example.com`],
				firstname: [`Ana "${i}" Ñoño`],
				visits: [i],
				source: ['web & app'],
				city: ['São Paulo'],
				tags: ['a', 'b'],
			},
		}));
		const jsonEscape = (text) => JSON.stringify(String(text)).slice(1, -1);
		const identity = (text) => String(text);
		const plain = (profile) => {
			const view = { ...profile.properties, profileId: profile.id, domainGroup: profile.domainGroup };
			return {
				url: Mustache.render(URL_TEMPLATE, view, {}, { escape: encodeURIComponent }),
				header: Mustache.render(HEADER_TEMPLATE, view, {}, { escape: identity }),
				body: Mustache.render(BODY_TEMPLATE, view, {}, { escape: jsonEscape }),
			};
		};
		// Both produce the same text (checked once, so the comparison is of equal work).
		const a = compiled.render(buildProfileView(profiles[1]));
		const b = plain(profiles[1]);
		if (a.url !== b.url || a.body !== b.body || a.headers['X-Profile-Id'] !== b.header) {
			throw new Error(`5.template: package and Mustache render differently:\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
		}
		const result = await compare({
			pkg: (i) => compiled.render(buildProfileView(profiles[i & 63])),
			base: (i) => plain(profiles[i & 63]),
			roundMs,
			rounds,
		});
		rows.push(
			row({
				id: '5.template',
				part: '5 templates',
				name: 'compiled request render (URL, header, JSON body) vs plain Mustache.render with the same escapes',
				unit: 'renders/s',
				result,
			}),
		);
	}

	if (want('5.jsonpath')) {
		const { JSONPath } = requireFromRepo('jsonpath-plus');
		const { compileJsonPath } = req('lib/mapping/jsonPath.js');
		const compiled = PATHS.map((p) => compileJsonPath(p));
		const docs = Array.from({ length: 64 }, (_, i) => ({
			firstName: `Name ${i}`,
			visits: i,
			tags: ['x', `t${i % 7}`],
			data: { merges: { EMAIL: `u${i}@example.com` } },
			items: [{ sku: `a${i}` }, { sku: `b${i}` }],
		}));
		const perCall = (doc) =>
			PATHS.map((path) => JSONPath({ path, json: doc, eval: 'safe', wrap: true, resultType: 'value' }));
		const same = JSON.stringify(compiled.map((p) => p.evaluate(docs[3]))) === JSON.stringify(perCall(docs[3]));
		if (!same) throw new Error('5.jsonpath: compiled paths and jsonpath-plus select differently');
		const result = await compare({
			pkg: (i) => compiled.map((p) => p.evaluate(docs[i & 63])),
			base: (i) => perCall(docs[i & 63]),
			roundMs,
			rounds,
		});
		rows.push(
			row({
				id: '5.jsonpath',
				part: '5 JsonPath',
				name: `compiled JsonPaths vs jsonpath-plus per call (${PATHS.length} paths per request)`,
				unit: 'requests/s',
				result,
			}),
		);
	}
	return { rows, notes: [] };
}
