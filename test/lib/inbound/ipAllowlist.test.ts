import { ConfigurationError, ProfileWebhookError } from '../../../lib/errors';
import { assertAllowed, compileAllowlist, isAllowed } from '../../../lib/inbound/ipAllowlist';

describe('compileAllowlist', () => {
	it('an empty list allows every caller, even one without a known address', () => {
		for (const empty of [[], '', '  \n ', undefined, [' ', '']]) {
			const list = compileAllowlist(empty as string[] | string | undefined);
			expect(list.allowAll).toBe(true);
			expect(isAllowed(list, '203.0.113.9')).toBe(true);
			expect(isAllowed(list, undefined)).toBe(true);
			expect(isAllowed(list, 'garbage')).toBe(true);
		}
	});

	it('splits a string on commas, spaces and new lines', () => {
		const list = compileAllowlist('10.0.0.1, 10.0.0.2\n10.0.0.3 10.0.0.4,,\r\n2001:db8::1');
		expect(list.entries).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '2001:db8::1']);
		expect(list.allowAll).toBe(false);
		for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '2001:db8::1']) {
			expect([ip, isAllowed(list, ip)]).toEqual([ip, true]);
		}
		expect(isAllowed(list, '10.0.0.5')).toBe(false);
	});

	it('accepts an array whose items may themselves hold several entries', () => {
		const list = compileAllowlist(['10.0.0.1', '192.168.0.0/16, 172.16.0.0/12']);
		expect(list.entries).toEqual(['10.0.0.1', '192.168.0.0/16', '172.16.0.0/12']);
		expect(isAllowed(list, '172.31.255.255')).toBe(true);
		expect(isAllowed(list, '172.32.0.0')).toBe(false);
	});

	it('names every invalid entry in one ConfigurationError', () => {
		let error: unknown;
		try {
			compileAllowlist('10.0.0.1, 300.1.2.3, 10.0.0.0/33, fe80::1%eth0, 2001:db8::/129, banana, 10.0.0.0/', 'options.ipAllowlist');
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigurationError);
		const configurationError = error as ConfigurationError;
		expect(configurationError.code).toBe('CONFIGURATION_INVALID');
		expect(configurationError.issues).toEqual([
			{ target: 'options.ipAllowlist', message: '"300.1.2.3" is not a valid IPv4 address or range' },
			{ target: 'options.ipAllowlist', message: '"10.0.0.0/33" has an invalid prefix length "/33" (expected 0 to 32)' },
			{ target: 'options.ipAllowlist', message: '"fe80::1%eth0" has a zone id (%...), which an allowlist cannot use' },
			{ target: 'options.ipAllowlist', message: '"2001:db8::/129" has an invalid prefix length "/129" (expected 0 to 128)' },
			{ target: 'options.ipAllowlist', message: '"banana" is not a valid IPv4 address or range' },
			{ target: 'options.ipAllowlist', message: '"10.0.0.0/" has an invalid prefix length "/" (expected 0 to 32)' },
		]);
	});

	it.each([
		['1.2.3', 'IPv4'],
		['1.2.3.4.5', 'IPv4'],
		['01.2.3.4', 'IPv4'],
		['1.2.3.256', 'IPv4'],
		['1.2.3.-1', 'IPv4'],
		['*', 'IPv4'],
		['/8', 'IPv4'],
		['1::2::3', 'IPv6'],
		['12345::1', 'IPv6'],
		['1:2:3:4:5:6:7:8:9', 'IPv6'],
		['1:2:3:4:5:6:7', 'IPv6'],
		['::ffff:300.1.2.3', 'IPv6'],
		['g::1', 'IPv6'],
		[':1::', 'IPv6'],
		['1:2:3:4:5:6:7::8', 'IPv6'],
	])('refuses %j', (entry, family) => {
		expect(() => compileAllowlist(entry)).toThrow(`ipAllowlist: "${entry}" is not a valid ${family} address or range`);
	});

	// Attack list (issue 16): a mapped CIDR became ::/8 (every IPv4 client); host bits were dropped.
	it.each([
		['::ffff:10.0.0.0/8', 'is an IPv4 range written as IPv4-mapped IPv6; write it in IPv4 form (10.0.0.0/NN)'],
		['::ffff:10.0.0.0/104', 'is an IPv4 range written as IPv4-mapped IPv6; write it in IPv4 form (10.0.0.0/8)'],
		['::ffff:a00:0/104', 'is an IPv4 range written as IPv4-mapped IPv6; write it in IPv4 form (10.0.0.0/8)'],
		['::ffff:1.2.3.4/24', 'is an IPv4 range written as IPv4-mapped IPv6; write it in IPv4 form (1.2.3.4/NN)'],
		['10.0.0.1/8', 'has host bits set: the network of this /8 is 10.0.0.0/8'],
		['10.1.2.3/8', 'has host bits set: the network of this /8 is 10.0.0.0/8'],
		['2001:db8::1/32', 'has host bits set: the network of this /32 is 2001:db8::/32'],
	])('refuses %j at compile time, naming it', (entry, message) => {
		let error: unknown;
		try {
			compileAllowlist(`10.0.0.0/8, ${entry}`, 'IP Allowlist');
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigurationError);
		expect((error as ConfigurationError).issues).toEqual([{ target: 'IP Allowlist', message: `"${entry}" ${message}` }]);
	});

	it.each(['10.0.0.0/08', '10.0.0.0/-1', '10.0.0.0/8/9', '10.0.0.0/x'])('refuses the prefix in %j', (entry) => {
		expect(() => compileAllowlist(entry)).toThrow(/has an invalid prefix length/);
	});
});

describe('isAllowed: IPv4', () => {
	const list = compileAllowlist('10.0.0.0/8, 192.168.1.10, 203.0.113.0/24');

	it.each([
		['10.0.0.0', true],
		['10.1.2.3', true],
		['10.255.255.255', true],
		['11.0.0.0', false],
		['9.255.255.255', false],
		['192.168.1.10', true],
		['192.168.1.11', false],
		['203.0.113.0', true],
		['203.0.113.255', true],
		['203.0.114.0', false],
	])('%s -> %s', (ip, allowed) => {
		expect(isAllowed(list, ip)).toBe(allowed);
	});

	it('an IPv4 client seen in IPv4-mapped IPv6 form matches, dotted or hex', () => {
		expect(isAllowed(list, '::ffff:10.1.2.3')).toBe(true);
		expect(isAllowed(list, '::ffff:a01:203')).toBe(true);
		expect(isAllowed(list, '::FFFF:0A01:0203')).toBe(true);
		expect(isAllowed(list, '0:0:0:0:0:ffff:10.1.2.3')).toBe(true);
		expect(isAllowed(list, '::ffff:192.168.1.10')).toBe(true);
		expect(isAllowed(list, '::ffff:b00:1')).toBe(false); // 11.0.0.1
	});

	it('an IPv4 address is not confused with the IPv6 address of the same low bits', () => {
		expect(isAllowed(list, '::a01:203')).toBe(false);
		expect(isAllowed(list, '::10.1.2.3')).toBe(false);
	});

	it('a single IPv4-mapped address entry is that IPv4 address', () => {
		const mapped = compileAllowlist('::ffff:c0a8:10a, ::ffff:10.9.8.7');
		expect(isAllowed(mapped, '192.168.1.10')).toBe(true);
		expect(isAllowed(mapped, '::ffff:192.168.1.10')).toBe(true);
		expect(isAllowed(mapped, '10.9.8.7')).toBe(true);
		expect(isAllowed(mapped, '192.168.1.11')).toBe(false);
	});

	it('an IPv6 address with a dotted tail outside ::ffff:0:0/96 is IPv6, not that IPv4 address', () => {
		expect(isAllowed(list, '64:ff9b::10.1.2.3')).toBe(false);
		expect(isAllowed(compileAllowlist('64:ff9b::/96'), '64:ff9b::10.1.2.3')).toBe(true);
		expect(isAllowed(compileAllowlist('64:ff9b::/96'), '10.1.2.3')).toBe(false);
	});

	it('/32 is one address and /0 every IPv4 address (but no IPv6)', () => {
		const single = compileAllowlist('198.51.100.7/32');
		expect(isAllowed(single, '198.51.100.7')).toBe(true);
		expect(isAllowed(single, '198.51.100.8')).toBe(false);
		const all = compileAllowlist('0.0.0.0/0');
		expect(isAllowed(all, '255.255.255.255')).toBe(true);
		expect(isAllowed(all, '0.0.0.0')).toBe(true);
		expect(isAllowed(all, '2001:db8::1')).toBe(false);
	});
});

describe('isAllowed: IPv6', () => {
	const list = compileAllowlist('2001:db8::/32, ::1, fe80::/10');

	it.each([
		['2001:db8::1', true],
		['2001:0db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
		['2001:DB8:0:0:0:0:0:1', true],
		['2001:db9::', false],
		['2001:db7:ffff::', false],
		['::1', true],
		['::2', false],
		['0:0:0:0:0:0:0:1', true],
		['fe80::1', true],
		['febf:ffff::1', true],
		['fec0::1', false],
	])('%s -> %s', (ip, allowed) => {
		expect(isAllowed(list, ip)).toBe(allowed);
	});

	it('ignores a zone id on the client address', () => {
		expect(isAllowed(list, 'fe80::1%eth0')).toBe(true);
	});

	it('::/0 allows every IPv6 address but no IPv4 client, mapped or not (families stay apart)', () => {
		const all = compileAllowlist('::/0');
		expect(isAllowed(all, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
		expect(isAllowed(all, '::1')).toBe(true);
		expect(isAllowed(all, '10.0.0.1')).toBe(false);
		expect(isAllowed(all, '::ffff:10.0.0.1')).toBe(false);
	});

	it('/128 is one address', () => {
		const single = compileAllowlist('2001:db8::5/128');
		expect(isAllowed(single, '2001:db8::5')).toBe(true);
		expect(isAllowed(single, '2001:db8::6')).toBe(false);
	});
});

describe('isAllowed: unknown addresses', () => {
	const list = compileAllowlist('10.0.0.0/8');

	it.each([undefined, '', 'localhost', '10.0.0', '10.0.0.1:8080', '[::1]', '10.0.0.1/8'])(
		'%j is not allowed when a list is configured',
		(ip) => {
			expect(isAllowed(list, ip)).toBe(false);
		},
	);

	it('tolerates surrounding whitespace', () => {
		expect(isAllowed(list, ' 10.0.0.1 ')).toBe(true);
	});
});

describe('many entries', () => {
	it('finds the right range among many', () => {
		const entries = Array.from({ length: 200 }, (_, i) => `10.${i}.0.0/24`);
		const list = compileAllowlist(entries);
		expect(list.ranges).toHaveLength(200);
		expect(isAllowed(list, '10.0.0.1')).toBe(true);
		expect(isAllowed(list, '10.199.0.255')).toBe(true);
		expect(isAllowed(list, '10.100.0.77')).toBe(true);
		expect(isAllowed(list, '10.100.1.0')).toBe(false);
		expect(isAllowed(list, '10.200.0.0')).toBe(false);
	});
});

describe('assertAllowed', () => {
	const list = compileAllowlist('10.0.0.0/8');

	it('returns for an allowed address', () => {
		expect(() => assertAllowed(list, '10.0.0.1')).not.toThrow();
	});

	it('throws 403 FORBIDDEN naming the caller', () => {
		let error: unknown;
		try {
			assertAllowed(list, '192.0.2.1');
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ProfileWebhookError);
		const forbidden = error as ProfileWebhookError;
		expect(forbidden.status).toBe(403);
		expect(forbidden.code).toBe('FORBIDDEN');
		expect(forbidden.message).toBe('The address 192.0.2.1 is not allowed to call this webhook');
	});

	it('says when the address is unknown', () => {
		expect(() => assertAllowed(list, undefined)).toThrow('A caller whose address is unknown is not allowed to call this webhook');
	});
});

describe("agrees with Node's own BlockList on random addresses", () => {
	// A small deterministic PRNG (mulberry32), so a failure can be replayed.
	const random = (seed: number) => () => {
		seed |= 0;
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const next = random(20240601);
	const int = (n: number) => Math.floor(next() * n);
	const v4 = () => [int(4) === 0 ? 10 : int(256), int(256), int(256), int(256)].join('.');
	const v6 = () =>
		Array.from({ length: 8 }, (_, i) => (i === 0 && int(2) ? '2001' : int(65536).toString(16))).join(':');
	// Entries must be networks (host bits are refused): clear the host bits of a random address.
	const network = (address: string, prefix: number, bits: 32 | 128): string => {
		const groups = bits === 32 ? address.split('.').map(Number) : address.split(':').map((g) => parseInt(g, 16));
		const width = BigInt(bits === 32 ? 8 : 16);
		const all = (1n << BigInt(bits)) - 1n;
		const value = groups.reduce((n, g) => (n << width) | BigInt(g), 0n) & (all ^ ((1n << BigInt(bits - prefix)) - 1n));
		const out = groups.map((_, i) => Number((value >> (width * BigInt(groups.length - 1 - i))) & ((1n << width) - 1n)));
		return bits === 32 ? out.join('.') : out.map((g) => g.toString(16)).join(':');
	};

	it('IPv4 ranges', () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- test-only oracle
		const { BlockList } = require('node:net') as typeof import('node:net');
		const outcomes = new Set<boolean>();
		for (let round = 0; round < 20; round++) {
			const entries = Array.from({ length: 5 }, () => {
				const prefix = int(33);
				return `${network(v4(), prefix, 32)}/${prefix}`;
			});
			const oracle = new BlockList();
			for (const entry of entries) {
				const [address, prefix] = entry.split('/');
				oracle.addSubnet(address, Number(prefix), 'ipv4');
			}
			const list = compileAllowlist(entries);
			for (let i = 0; i < 200; i++) {
				const ip = v4();
				const allowed = isAllowed(list, ip);
				expect([entries, ip, allowed]).toEqual([entries, ip, oracle.check(ip, 'ipv4')]);
				outcomes.add(allowed);
			}
		}
		expect(outcomes).toEqual(new Set([true, false]));
	});

	it('IPv6 ranges', () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- test-only oracle
		const { BlockList } = require('node:net') as typeof import('node:net');
		const outcomes = new Set<boolean>();
		for (let round = 0; round < 20; round++) {
			const entries = Array.from({ length: 5 }, () => {
				const prefix = int(129);
				return `${network(v6(), prefix, 128)}/${prefix}`;
			});
			const oracle = new BlockList();
			for (const entry of entries) {
				const [address, prefix] = entry.split('/');
				oracle.addSubnet(address, Number(prefix), 'ipv6');
			}
			const list = compileAllowlist(entries);
			for (let i = 0; i < 200; i++) {
				const ip = v6();
				const allowed = isAllowed(list, ip);
				expect([entries, ip, allowed]).toEqual([entries, ip, oracle.check(ip, 'ipv6')]);
				outcomes.add(allowed);
			}
		}
		expect(outcomes).toEqual(new Set([true, false]));
	});
});
