/**
 * IP allowlist: single addresses and CIDR ranges, IPv4 and IPv6.
 *
 * Every address is placed in one 128-bit space, IPv4 as its IPv4-mapped IPv6 form
 * (`10.1.2.3` = `::ffff:10.1.2.3` = `::ffff:a01:203`), so an IPv4 client that Node reports in
 * mapped form matches an IPv4 entry, and a mapped entry matches a plain IPv4 client. Ranges are
 * computed once at compile time as bigint [start, end] pairs, merged and sorted; a request costs
 * one address parse and a binary search.
 *
 * Plain BigInt arithmetic rather than `ip-cidr`: it keeps this module synchronous and free of an
 * ESM-only dependency, and the whole job is a parse and two comparisons.
 */
import { ConfigurationError, ProfileWebhookError, type ValidationIssue } from '../errors';

export interface CompiledAllowlist {
	/** The entries as written (after splitting), for display. */
	readonly entries: readonly string[];
	/** True when the list is empty: every caller is allowed, even one without a known address. */
	readonly allowAll: boolean;
	/** Merged, sorted, non-overlapping inclusive ranges in the 128-bit space. */
	readonly ranges: readonly AddressRange[];
}

export interface AddressRange {
	start: bigint;
	end: bigint;
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96
const ALL_ONES_128 = (1n << 128n) - 1n;

/**
 * Compiles an allowlist once per node configuration. Accepts an array of entries or one string
 * with entries separated by commas, spaces or new lines. An empty list allows every caller.
 * Throws `ConfigurationError` naming every invalid entry (none is silently ignored).
 * A CIDR whose address has host bits set (`10.1.2.3/8`) is accepted as its network (`10.0.0.0/8`).
 */
export function compileAllowlist(
	entries: readonly string[] | string | undefined,
	target = 'ipAllowlist',
): CompiledAllowlist {
	const list = (typeof entries === 'string' ? [entries] : (entries ?? []))
		.flatMap((entry) => String(entry).split(/[\s,]+/))
		.filter((entry) => entry !== '');

	const issues: ValidationIssue[] = [];
	const ranges: AddressRange[] = [];
	for (const entry of list) {
		const range = parseEntry(entry);
		if (typeof range === 'string') issues.push({ target, message: `"${entry}" ${range}` });
		else ranges.push(range);
	}
	if (issues.length) throw new ConfigurationError(issues);

	return { entries: list, allowAll: list.length === 0, ranges: mergeRanges(ranges) };
}

/**
 * Whether a client address may call. With an empty list, always true. Otherwise an undefined or
 * unparseable address is not allowed. Zone ids (`fe80::1%eth0`) are ignored.
 */
export function isAllowed(compiled: CompiledAllowlist, clientIp: string | undefined): boolean {
	if (compiled.allowAll) return true;
	if (typeof clientIp !== 'string') return false;
	const address = parseAddress(stripZone(clientIp.trim()));
	if (address === undefined) return false;
	const { ranges } = compiled;
	let low = 0;
	let high = ranges.length - 1;
	while (low <= high) {
		const mid = (low + high) >> 1;
		const range = ranges[mid];
		if (address < range.start) high = mid - 1;
		else if (address > range.end) low = mid + 1;
		else return true;
	}
	return false;
}

/** Throws 403 FORBIDDEN when `isAllowed` is false. The message names the caller's own address. */
export function assertAllowed(compiled: CompiledAllowlist, clientIp: string | undefined): void {
	if (isAllowed(compiled, clientIp)) return;
	const who = clientIp ? `The address ${clientIp}` : 'A caller whose address is unknown';
	throw new ProfileWebhookError(403, 'FORBIDDEN', `${who} is not allowed to call this webhook`);
}

/**
 * Parses an IPv4 or IPv6 address into the 128-bit space (IPv4 as IPv4-mapped IPv6), or undefined.
 */
export function parseAddress(text: string): bigint | undefined {
	if (text.includes(':')) return parseIPv6(text);
	const v4 = parseIPv4(text);
	return v4 === undefined ? undefined : MAPPED_PREFIX | v4;
}

function stripZone(text: string): string {
	const percent = text.indexOf('%');
	return percent < 0 ? text : text.slice(0, percent);
}

function parseEntry(entry: string): AddressRange | string {
	const slash = entry.indexOf('/');
	const addressText = slash < 0 ? entry : entry.slice(0, slash);
	if (addressText.includes('%')) return 'has a zone id (%...), which an allowlist cannot use';
	const isV6 = addressText.includes(':');
	const address = parseAddress(addressText);
	if (address === undefined) {
		return isV6 ? 'is not a valid IPv6 address or range' : 'is not a valid IPv4 address or range';
	}
	if (slash < 0) return { start: address, end: address };

	const prefixText = entry.slice(slash + 1);
	const max = isV6 ? 128 : 32;
	if (!/^(0|[1-9][0-9]*)$/.test(prefixText) || Number(prefixText) > max) {
		return `has an invalid prefix length "/${prefixText}" (expected 0 to ${max})`;
	}
	// IPv4 prefixes count within the mapped /96.
	const prefix = Number(prefixText) + (isV6 ? 0 : 96);
	const hostBits = BigInt(128 - prefix);
	const hostMask = (1n << hostBits) - 1n;
	const start = address & (ALL_ONES_128 ^ hostMask);
	return { start, end: start | hostMask };
}

function parseIPv4(text: string): bigint | undefined {
	const parts = text.split('.');
	if (parts.length !== 4) return undefined;
	let value = 0n;
	for (const part of parts) {
		// No leading zeros: "010" is octal to some parsers and decimal to others.
		if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
		const n = Number(part);
		if (n > 255) return undefined;
		value = (value << 8n) | BigInt(n);
	}
	return value;
}

function parseIPv6(text: string): bigint | undefined {
	if (text.length > 45) return undefined;
	let head = text;
	let tailV4: bigint | undefined;
	const lastColon = text.lastIndexOf(':');
	if (text.indexOf('.', lastColon) > 0) {
		// Embedded IPv4 in the last 32 bits (::ffff:10.1.2.3).
		tailV4 = parseIPv4(text.slice(lastColon + 1));
		if (tailV4 === undefined) return undefined;
		head = `${text.slice(0, lastColon + 1)}0:0`;
	}
	const doubleColon = head.indexOf('::');
	if (doubleColon >= 0 && head.indexOf('::', doubleColon + 1) >= 0) return undefined;

	let groups: string[];
	if (doubleColon >= 0) {
		const left = head.slice(0, doubleColon);
		const right = head.slice(doubleColon + 2);
		const leftGroups = left === '' ? [] : left.split(':');
		const rightGroups = right === '' ? [] : right.split(':');
		const missing = 8 - leftGroups.length - rightGroups.length;
		if (missing < 1) return undefined;
		groups = [...leftGroups, ...Array<string>(missing).fill('0'), ...rightGroups];
	} else {
		groups = head.split(':');
		if (groups.length !== 8) return undefined;
	}

	let value = 0n;
	for (const group of groups) {
		if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return undefined;
		value = (value << 16n) | BigInt(parseInt(group, 16));
	}
	if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
	return value;
}

function mergeRanges(ranges: AddressRange[]): AddressRange[] {
	const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
	const merged: AddressRange[] = [];
	for (const range of sorted) {
		const last = merged[merged.length - 1];
		if (last && range.start <= last.end + 1n) {
			if (range.end > last.end) last.end = range.end;
		} else {
			merged.push({ ...range });
		}
	}
	return merged;
}
