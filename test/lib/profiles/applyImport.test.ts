import { ConfigurationError, ValidationError } from '../../../lib/errors';
import { applyImports, parseImportMode } from '../../../lib/profiles/applyImport';
import type { ProfileProperties, PropertyImport } from '../../../lib/profiles/types';

function validationIssues(run: () => unknown): ValidationError {
	try {
		run();
	} catch (error) {
		if (error instanceof ValidationError) return error;
		throw error;
	}
	throw new Error('expected a ValidationError');
}

describe('import modes', () => {
	const stored: ProfileProperties = {
		email: ['ann@example.com'],
		tags: ['a', 'b'],
		visits: [4],
		nickname: [''],
	};

	describe('set', () => {
		it('replaces the stored values', () => {
			const { properties, changes } = applyImports(stored, [{ property: 'tags', mode: 'set', values: ['x'] }]);
			expect(properties.tags).toEqual(['x']);
			expect(changes).toEqual({ tags: { mode: 'set', before: ['a', 'b'], after: ['x'] } });
		});

		it('with no values removes the property', () => {
			const { properties, changes } = applyImports(stored, [{ property: 'tags', mode: 'set', values: [] }]);
			expect(properties).not.toHaveProperty('tags');
			expect(changes.tags).toEqual({ mode: 'set', before: ['a', 'b'], after: [] });
		});

		it('creates an absent property', () => {
			const { properties, changes } = applyImports({}, [{ property: 'city', mode: 'set', values: ['Delft'] }]);
			expect(properties).toEqual({ city: ['Delft'] });
			expect(changes.city).toEqual({ mode: 'set', before: [], after: ['Delft'] });
		});
	});

	describe('setIfEmpty', () => {
		it('sets an absent property', () => {
			const { properties } = applyImports(stored, [{ property: 'city', mode: 'setIfEmpty', values: ['Delft'] }]);
			expect(properties.city).toEqual(['Delft']);
		});

		it('sets a property holding only empty values', () => {
			const { properties, changes } = applyImports(stored, [
				{ property: 'nickname', mode: 'setIfEmpty', values: ['Annie'] },
			]);
			expect(properties.nickname).toEqual(['Annie']);
			expect(changes.nickname).toEqual({ mode: 'setIfEmpty', before: [''], after: ['Annie'] });
		});

		it('leaves a property holding a value, and reports no change', () => {
			const { properties, changes } = applyImports(stored, [
				{ property: 'email', mode: 'setIfEmpty', values: ['bob@example.com'] },
			]);
			expect(properties.email).toEqual(['ann@example.com']);
			expect(changes).toEqual({});
		});

		it('counts 0 and false as values', () => {
			const { changes } = applyImports({ n: [0], b: [false] }, [
				{ property: 'n', mode: 'setIfEmpty', values: [7] },
				{ property: 'b', mode: 'setIfEmpty', values: [true] },
			]);
			expect(changes).toEqual({});
		});
	});

	describe('add', () => {
		it('appends values not already present, in order', () => {
			const { properties, changes } = applyImports(stored, [
				{ property: 'tags', mode: 'add', values: ['b', 'c', 'a', 'd', 'c'] },
			]);
			expect(properties.tags).toEqual(['a', 'b', 'c', 'd']);
			expect(changes.tags).toEqual({ mode: 'add', before: ['a', 'b'], after: ['a', 'b', 'c', 'd'] });
		});

		it('compares by string form', () => {
			const { properties, changes } = applyImports({ ids: [3, 'true'] }, [
				{ property: 'ids', mode: 'add', values: ['3', true, 4] },
			]);
			expect(properties.ids).toEqual([3, 'true', 4]);
			expect(changes.ids.after).toEqual([3, 'true', 4]);
		});

		it('reports nothing when every value is already there', () => {
			expect(applyImports(stored, [{ property: 'tags', mode: 'add', values: ['a'] }]).changes).toEqual({});
		});
	});

	describe('sum', () => {
		it('adds to the stored number', () => {
			const { properties, changes } = applyImports(stored, [{ property: 'visits', mode: 'sum', values: [1] }]);
			expect(properties.visits).toEqual([5]);
			expect(changes.visits).toEqual({ mode: 'sum', before: [4], after: [5] });
		});

		it('counts an absent property as 0 and adds every value', () => {
			expect(applyImports({}, [{ property: 'score', mode: 'sum', values: [2, '3', '2.5', -1] }]).properties).toEqual({
				score: [6.5],
			});
		});

		it('accepts a stored numeric string', () => {
			expect(applyImports({ score: ['10'] }, [{ property: 'score', mode: 'sum', values: ['-2.5'] }]).properties.score).toEqual([
				7.5,
			]);
		});

		it('keeps decimal sums decimal', () => {
			expect(applyImports({ amount: [0.1] }, [{ property: 'amount', mode: 'sum', values: [0.2] }]).properties.amount).toEqual([
				0.3,
			]);
		});

		it('adding 0 changes nothing', () => {
			expect(applyImports({ score: ['10'] }, [{ property: 'score', mode: 'sum', values: [0] }]).changes).toEqual({});
		});

		it('refuses a value that is not a number, naming the property and the value', () => {
			const error = validationIssues(() =>
				applyImports(stored, [{ property: 'visits', mode: 'sum', values: ['many'] }]),
			);
			expect(error.status).toBe(422);
			expect(error.issues).toEqual([{ target: 'visits', message: expect.stringContaining('"many"') }]);
			expect(error.message).toContain('visits');
			expect(error.message).toContain('many');
		});

		it('refuses booleans, empty strings and hexadecimal', () => {
			const error = validationIssues(() =>
				applyImports({}, [{ property: 'n', mode: 'sum', values: [true, '', '0x10'] }]),
			);
			expect(error.issues).toHaveLength(3);
		});

		it('refuses to add to a stored value that is not a number', () => {
			const error = validationIssues(() =>
				applyImports({ visits: ['often'] }, [{ property: 'visits', mode: 'sum', values: [1] }]),
			);
			// The stored value may be personal data: it is never quoted back to a caller.
			expect(error.issues[0]).toEqual({ target: 'visits', message: 'sum needs a stored number, and the stored value is not a number' });
			expect(error.message).not.toContain('often');
		});
	});

	describe('a change set', () => {
		it('lists every issue and applies nothing', () => {
			const imports: PropertyImport[] = [
				{ property: 'visits', mode: 'sum', values: ['x'] },
				{ property: 'tags', mode: 'add', values: ['ok'] },
				{ property: 'score', mode: 'sum', values: ['y', 'z'] },
				{ property: '', mode: 'set', values: ['v'] },
			];
			const before = structuredClone(stored);
			const error = validationIssues(() => applyImports(stored, imports));
			expect(error.issues.map((i) => i.target)).toEqual(['visits', 'score', 'score', 'imports[3]']);
			expect(stored).toEqual(before);
		});

		it('refuses values that are not strings, finite numbers or booleans', () => {
			const imports = [
				{ property: 'a', mode: 'set', values: [{ nested: true }] },
				{ property: 'b', mode: 'set', values: [Number.NaN] },
				{ property: 'c', mode: 'replace', values: ['x'] },
				{ property: '__proto__', mode: 'set', values: ['x'] },
			] as unknown as PropertyImport[];
			const error = validationIssues(() => applyImports({}, imports));
			expect(error.issues.map((i) => i.target)).toEqual(['a', 'b', 'c', 'imports[3]']);
		});

		it('composes several imports of one property, reporting the first before and the last after', () => {
			const { properties, changes } = applyImports({ visits: [1] }, [
				{ property: 'visits', mode: 'sum', values: [1] },
				{ property: 'visits', mode: 'sum', values: [1] },
			]);
			expect(properties.visits).toEqual([3]);
			expect(changes.visits).toEqual({ mode: 'sum', before: [1], after: [3] });
		});

		it('does not report a property set to the values it holds', () => {
			expect(applyImports(stored, [{ property: 'tags', mode: 'set', values: ['a', 'b'] }]).changes).toEqual({});
		});

		it('does not modify its input', () => {
			const input: ProfileProperties = { tags: ['a'] };
			applyImports(input, [{ property: 'tags', mode: 'add', values: ['b'] }]);
			expect(input).toEqual({ tags: ['a'] });
		});
	});
});

describe('parseImportMode', () => {
	it.each([
		['set', 'set'],
		['setIfEmpty', 'setIfEmpty'],
		['add', 'add'],
		['sum', 'sum'],
		['SET', 'set'],
		['SET_IF_EMPTY', 'setIfEmpty'],
		['ADD', 'add'],
		['SUM', 'sum'],
		['INCREMENT', 'sum'],
		['increment', 'sum'],
		['Increment', 'sum'],
	])('reads %s as %s', (text, mode) => {
		expect(parseImportMode(text)).toBe(mode);
	});

	it('refuses anything else with a clear error', () => {
		expect(() => parseImportMode('replace')).toThrow(ConfigurationError);
		expect(() => parseImportMode('replace')).toThrow(/unknown import mode "replace".*set, setIfEmpty, add or sum/);
		expect(() => parseImportMode('')).toThrow(ConfigurationError);
	});
});
